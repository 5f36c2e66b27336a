//! SignalWire's GraphQL types (`SignalWireVoiceLog`, `SignalWireVideoLog`,
//! `DiscardedCallLog`, events) and its query fields. Resolvers delegate to the provider
//! service and the request's loaders.

use std::sync::Arc;

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};

use crate::domain::{CallLogCore, NodeKind, Provider};
use crate::graphql::call_log::{CallLog, Node, call_log_object};
use crate::graphql::connection::{NamedConnection, connection_fields, connection_names};
use crate::graphql::error::GatewayError;
use crate::graphql::flat::Flat;
use crate::graphql::lookup;
use crate::graphql::node::Loaded;
use crate::graphql::plan::{Draw, OwnField, leaf_enums, own_leaf};
use crate::graphql::scalars::{Date, DateTime, Json};
use crate::graphql::scope::{Env, ProviderScope, RequestScope, scope};
use crate::graphql::timeline::CallLogs;
use crate::graphql::values::{self, Money};
use crate::providers::signalwire::model::{self, DiscardedLog, VideoLog, VideoSession, VoiceCall, VoiceLog};
use crate::providers::signalwire::paging::Position;
use crate::providers::signalwire::{ListFilter, SignalWire, VIDEO_LOG, VOICE_LOG, VideoLogLoader, VoiceLogLoader};
use crate::request::{CallBudget, spawn_in_budget};
use crate::tenancy::Tenant;
use crate::timeline::{Plan, TimelineStream, WindowFuture, decode_position, scan};

/// SignalWire's part of a request's scope: its service and loaders.
pub(crate) struct SignalWireScope {
    pub service: Arc<SignalWire>,
    pub voice: async_graphql::dataloader::DataLoader<VoiceLogLoader>,
    pub video: async_graphql::dataloader::DataLoader<VideoLogLoader>,
}

impl ProviderScope for SignalWireScope {
    const PROVIDER: Provider = Provider::SignalWire;
    type Service = SignalWire;
    fn service(&self) -> &Arc<Self::Service> {
        &self.service
    }
}

/// Builds SignalWire's part of a request scope (`providers::PARTS`).
pub(crate) fn request_part(tenant: &Tenant, budget: &Arc<CallBudget>) -> Option<Box<dyn std::any::Any + Send + Sync>> {
    use async_graphql::dataloader::DataLoader;
    let service = tenant.service::<SignalWire>()?;
    let spawn = || spawn_in_budget(budget.clone());
    Some(Box::new(SignalWireScope {
        voice: DataLoader::new(VoiceLogLoader(service.clone()), spawn()),
        video: DataLoader::new(VideoLogLoader(service.clone()), spawn()),
        service,
    }))
}

/// A SignalWire voice log (Relay/LAML call, video room audio leg, Dialogflow or Fabric leg).
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct SignalWireVoiceLog(pub Arc<VoiceCall>);

/// A SignalWire video log (room or conference session).
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct SignalWireVideoLog(pub Arc<VideoSession>);

/// A log the provider deleted: only its id, creation and deletion times survive, so most
/// `CallLog` fields are null and `status` is DELETED.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct DiscardedCallLog(pub Arc<DiscardedLog>);

impl SignalWireVoiceLog {
    fn core(&self) -> &CallLogCore {
        &self.0.core
    }
    fn id_native(&self) -> std::borrow::Cow<'_, str> {
        std::borrow::Cow::Borrowed(&self.0.core.native_id)
    }
    fn id_kind(&self) -> NodeKind {
        VOICE_LOG
    }
}

impl SignalWireVideoLog {
    fn core(&self) -> &CallLogCore {
        &self.0.core
    }
    fn id_native(&self) -> std::borrow::Cow<'_, str> {
        std::borrow::Cow::Borrowed(&self.0.core.native_id)
    }
    fn id_kind(&self) -> NodeKind {
        VIDEO_LOG
    }
}

impl DiscardedCallLog {
    fn core(&self) -> &CallLogCore {
        &self.0.core
    }
    fn id_native(&self) -> std::borrow::Cow<'_, str> {
        std::borrow::Cow::Borrowed(&self.0.core.native_id)
    }
    fn id_kind(&self) -> NodeKind {
        self.0.kind
    }
}

/// `source` of a SignalWire voice log.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum SignalWireVoiceSource {
    Dialogflow,
    Laml,
    RealtimeApi,
    /// A value this gateway does not know yet; see `providerSource`.
    Unknown,
}

/// `type` of a SignalWire voice log.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum SignalWireVoiceType {
    DialogflowCall,
    LamlCall,
    RelayPstnCall,
    RelaySipCall,
    RelayWebrtcCall,
    VideoRoomPstnLeg,
    VideoRoomSipLeg,
    FabricSubscriberDeviceLeg,
    /// A value this gateway does not know yet; see `providerType`.
    Unknown,
}

/// `type` of a SignalWire video log.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum SignalWireVideoType {
    VideoRoomSession,
    VideoConferenceSession,
    /// A value this gateway does not know yet; see `providerType`.
    Unknown,
}

/// Severity of a voice log event (`warning` from older API versions reads as WARN).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum SignalWireEventLevel {
    Info,
    Warn,
    Error,
    Debug,
    /// A value this gateway does not know yet; see `providerLevel`.
    Unknown,
}

/// One line of a log's `charge_details`.
#[derive(SimpleObject)]
pub(crate) struct ChargeDetail {
    pub description: String,
    pub charge: Money,
}

/// One event of a voice log (`/api/voice/logs/{id}/events`).
pub(crate) struct SignalWireVoiceLogEvent(model::VoiceLogEvent);

fn charge_details(details: &[model::ChargeDetail]) -> Vec<ChargeDetail> {
    details
        .iter()
        .map(|d| ChargeDetail {
            description: d.description.clone(),
            charge: (&d.charge).into(),
        })
        .collect()
}

call_log_object! {
    /// A SignalWire voice log (Relay/LAML call, video room audio leg, Dialogflow or Fabric leg).
    SignalWireVoiceLog {
        /// Normalized `source` (named apart from the video log's raw `providerSource` so
        /// one fragment per type over `callLogs` never asks a name with two types).
        async fn voice_source(&self) -> SignalWireVoiceSource {
            (&self.0.source).into()
        }
        /// The raw `source`.
        async fn provider_source(&self) -> &str {
            &self.0.raw_source
        }
        /// Normalized `type`.
        async fn voice_type(&self) -> SignalWireVoiceType {
            (&self.0.voice_type).into()
        }
        /// The raw `type`.
        async fn provider_type(&self) -> &str {
            &self.0.raw_type
        }
        /// Resource URL of LAML calls (SignalWire `url`); null for Relay and other call
        /// types.
        async fn laml_url(&self) -> Option<&str> {
            self.0.url.as_deref()
        }
        /// The raw `direction` (`inbound`, `outbound`, `outbound-api`, `outbound-dial`).
        async fn provider_direction(&self) -> Option<&str> {
            self.0.raw_direction.as_deref()
        }
        /// Duration in milliseconds.
        async fn duration_ms(&self) -> async_graphql::Result<Option<i32>> {
            Ok(crate::graphql::values::opt_int32(self.0.duration_ms)?)
        }
        /// Billable duration in milliseconds.
        async fn billing_ms(&self) -> async_graphql::Result<Option<i32>> {
            Ok(crate::graphql::values::opt_int32(self.0.billing_ms)?)
        }
        /// Native id of the parent log, for child legs.
        async fn parent_id(&self) -> Option<&str> {
            self.0.parent_id.as_deref()
        }
        /// The parent log, loaded through the request's DataLoader and the cache.
        async fn parent(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<CallLog>> {
            let Some(parent) = &self.0.parent_id else { return Ok(None) };
            Ok(lookup::load(&scope(ctx)?.get::<SignalWireScope>()?.voice, parent.clone(), voice_log).await?)
        }
        /// What the charge is made of.
        async fn charge_details(&self) -> Vec<ChargeDetail> {
            charge_details(&self.0.charge_details)
        }
        /// The log's events, oldest first (one upstream call per log, then cached).
        async fn events(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<SignalWireVoiceLogEvent>> {
            Ok(self.read_events(ctx).await?)
        }
    }
}

call_log_object! {
    /// A SignalWire video log (room or conference session). Video logs have no numbers;
    /// `durationSeconds` is derived from `startedAt`/`endedAt`.
    SignalWireVideoLog {
        /// The raw `source` (`realtime_api`).
        async fn provider_source(&self) -> &str {
            &self.0.source
        }
        /// Normalized `type`.
        async fn video_type(&self) -> SignalWireVideoType {
            (&self.0.video_type).into()
        }
        /// The raw `type`.
        async fn provider_type(&self) -> &str {
            &self.0.raw_type
        }
        /// URL of the room session resource.
        async fn url(&self) -> &str {
            &self.0.url
        }
        /// Room name; null when the provider has none.
        async fn room_name(&self) -> Option<&str> {
            self.0.room_name.as_deref()
        }
        /// Whether the room was locked.
        async fn locked(&self) -> bool {
            self.0.locked
        }
        /// What the charge is made of.
        async fn charge_details(&self) -> Vec<ChargeDetail> {
            charge_details(&self.0.charge_details)
        }
    }
}

call_log_object! {
    /// A log the provider deleted: only its id, creation and deletion times survive, so
    /// most `CallLog` fields are null and `status` is DELETED.
    DiscardedCallLog {
        /// When the provider deleted the log.
        async fn discarded_at(&self) -> DateTime {
            DateTime(self.0.discarded_at)
        }
    }
}

#[Object]
impl SignalWireVoiceLogEvent {
    /// When the event happened.
    async fn event_at(&self) -> DateTime {
        DateTime(self.0.event_at)
    }
    /// Normalized severity.
    async fn level(&self) -> SignalWireEventLevel {
        (&self.0.level).into()
    }
    /// The raw `level`.
    async fn provider_level(&self) -> &str {
        &self.0.raw_level
    }
    /// Event name, e.g. `calling_call_initiated`.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Free-form details; their shape varies by event type (as SignalWire documents).
    async fn details(&self) -> Json {
        Json(self.0.details.clone())
    }
    /// The SignalWire project id.
    async fn project_id(&self) -> &str {
        &self.0.project_id
    }
    /// Native id of the log the event belongs to.
    async fn log_id(&self) -> &str {
        &self.0.log_id
    }
}

impl SignalWireVoiceLog {
    /// The body of `events`, for its resolver and for plans.
    async fn read_events(&self, env: &(impl Env + ?Sized)) -> Result<Vec<SignalWireVoiceLogEvent>, GatewayError> {
        let service = &scope(env)?.get::<SignalWireScope>()?.service;
        let events = service.voice_log_events(&self.0.core.native_id).await?;
        Ok(events.iter().cloned().map(SignalWireVoiceLogEvent).collect())
    }
}

impl From<&model::VoiceSource> for SignalWireVoiceSource {
    fn from(source: &model::VoiceSource) -> Self {
        match source {
            model::VoiceSource::Dialogflow => SignalWireVoiceSource::Dialogflow,
            model::VoiceSource::Laml => SignalWireVoiceSource::Laml,
            model::VoiceSource::RealtimeApi => SignalWireVoiceSource::RealtimeApi,
            model::VoiceSource::Other(_) => SignalWireVoiceSource::Unknown,
        }
    }
}

impl From<&model::VoiceType> for SignalWireVoiceType {
    fn from(ty: &model::VoiceType) -> Self {
        use model::VoiceType as T;
        match ty {
            T::DialogflowCall => SignalWireVoiceType::DialogflowCall,
            T::LamlCall => SignalWireVoiceType::LamlCall,
            T::RelayPstnCall => SignalWireVoiceType::RelayPstnCall,
            T::RelaySipCall => SignalWireVoiceType::RelaySipCall,
            T::RelayWebrtcCall => SignalWireVoiceType::RelayWebrtcCall,
            T::VideoRoomPstnLeg => SignalWireVoiceType::VideoRoomPstnLeg,
            T::VideoRoomSipLeg => SignalWireVoiceType::VideoRoomSipLeg,
            T::FabricSubscriberDeviceLeg => SignalWireVoiceType::FabricSubscriberDeviceLeg,
            T::Other(_) => SignalWireVoiceType::Unknown,
        }
    }
}

impl From<&model::VideoType> for SignalWireVideoType {
    fn from(ty: &model::VideoType) -> Self {
        match ty {
            model::VideoType::RoomSession => SignalWireVideoType::VideoRoomSession,
            model::VideoType::ConferenceSession => SignalWireVideoType::VideoConferenceSession,
            model::VideoType::Other(_) => SignalWireVideoType::Unknown,
        }
    }
}

impl From<&model::EventLevel> for SignalWireEventLevel {
    fn from(level: &model::EventLevel) -> Self {
        match level {
            model::EventLevel::Info => SignalWireEventLevel::Info,
            model::EventLevel::Warn => SignalWireEventLevel::Warn,
            model::EventLevel::Error => SignalWireEventLevel::Error,
            model::EventLevel::Debug => SignalWireEventLevel::Debug,
            model::EventLevel::Other(_) => SignalWireEventLevel::Unknown,
        }
    }
}

leaf_enums!(
    SignalWireVoiceSource,
    SignalWireVoiceType,
    SignalWireVideoType,
    SignalWireEventLevel
);

/// The fields of SignalWire's own types that compiled plans draw (`graphql::plan`), each
/// the value its resolver returns (`events` through the resolver's body).
pub(super) const OWN_FIELDS: &[OwnField] = &[
    own_leaf!(SignalWireVoiceLog, "voiceSource", |log| SignalWireVoiceSource::from(
        &log.0.source
    )),
    own_leaf!(SignalWireVoiceLog, "providerSource", |log| log.0.raw_source.as_str()),
    own_leaf!(SignalWireVoiceLog, "voiceType", |log| SignalWireVoiceType::from(
        &log.0.voice_type
    )),
    own_leaf!(SignalWireVoiceLog, "providerType", |log| log.0.raw_type.as_str()),
    own_leaf!(SignalWireVoiceLog, "lamlUrl", |log| log.0.url.as_deref()),
    own_leaf!(SignalWireVoiceLog, "providerDirection", |log| log
        .0
        .raw_direction
        .as_deref()),
    own_leaf!(SignalWireVoiceLog, "durationMs", |log| values::opt_int32(
        log.0.duration_ms
    )),
    own_leaf!(SignalWireVoiceLog, "billingMs", |log| values::opt_int32(
        log.0.billing_ms
    )),
    own_leaf!(SignalWireVoiceLog, "parentId", |log| log.0.parent_id.as_deref()),
    OwnField {
        ty: "SignalWireVoiceLog",
        name: "events",
        draw: Draw::List {
            item: "SignalWireVoiceLogEvent",
            read: |log, env| {
                Box::pin(async move {
                    let log: &dyn std::any::Any = log;
                    let log = log
                        .downcast_ref::<SignalWireVoiceLog>()
                        .ok_or_else(|| GatewayError::internal("events of another type"))?;
                    let events = log.read_events(env).await?;
                    Ok(events
                        .into_iter()
                        .map(|e| Box::new(e) as Box<dyn std::any::Any + Send>)
                        .collect())
                })
            },
        },
    },
    own_leaf!(SignalWireVoiceLogEvent, "eventAt", |event| DateTime(event.0.event_at)),
    own_leaf!(SignalWireVoiceLogEvent, "level", |event| SignalWireEventLevel::from(
        &event.0.level
    )),
    own_leaf!(SignalWireVoiceLogEvent, "providerLevel", |event| event
        .0
        .raw_level
        .as_str()),
    own_leaf!(SignalWireVoiceLogEvent, "name", |event| event.0.name.as_str()),
    own_leaf!(SignalWireVoiceLogEvent, "details", |event| Json(
        event.0.details.clone()
    )),
    own_leaf!(SignalWireVoiceLogEvent, "projectId", |event| event
        .0
        .project_id
        .as_str()),
    own_leaf!(SignalWireVoiceLogEvent, "logId", |event| event.0.log_id.as_str()),
    own_leaf!(SignalWireVideoLog, "providerSource", |log| log.0.source.as_str()),
    own_leaf!(SignalWireVideoLog, "videoType", |log| SignalWireVideoType::from(
        &log.0.video_type
    )),
    own_leaf!(SignalWireVideoLog, "providerType", |log| log.0.raw_type.as_str()),
    own_leaf!(SignalWireVideoLog, "url", |log| log.0.url.as_str()),
    own_leaf!(SignalWireVideoLog, "roomName", |log| log.0.room_name.as_deref()),
    own_leaf!(SignalWireVideoLog, "locked", |log| log.0.locked),
];

/// Filter of the SignalWire log connections, applied by SignalWire itself.
#[derive(InputObject, Default)]
pub(crate) struct SignalWireLogFilter {
    /// Only logs created after this instant (SignalWire `created_after`).
    #[graphql(validator(custom = "crate::graphql::values::in_date_range"))]
    pub created_after: Option<DateTime>,
    /// Only logs created before this instant (SignalWire `created_before`).
    #[graphql(validator(custom = "crate::graphql::values::in_date_range"))]
    pub created_before: Option<DateTime>,
    /// Only logs created on this UTC day (SignalWire `created_on`); combines with the
    /// bounds above.
    #[graphql(validator(custom = "crate::graphql::values::in_day_range"))]
    pub created_on: Option<Date>,
    /// Include deleted logs, as `DiscardedCallLog` items.
    #[graphql(default)]
    pub include_deleted: bool,
}

impl SignalWireLogFilter {
    fn into_domain(self) -> ListFilter {
        ListFilter {
            created_after: self.created_after.map(|t| t.0),
            created_before: self.created_before.map(|t| t.0),
            created_on: self.created_on.map(|t| t.0),
            include_deleted: self.include_deleted,
        }
    }
}

connection_names!(VoiceLogNames, "SignalWireVoiceLogConnection", "SignalWireVoiceLogEdge");
connection_names!(VideoLogNames, "SignalWireVideoLogConnection", "SignalWireVideoLogEdge");

/// A voice log as the `CallLog` it is rendered as.
pub(crate) fn voice_log(log: Arc<VoiceLog>) -> CallLog {
    match &*log {
        VoiceLog::Call(c) => CallLog::SignalWireVoiceLog(SignalWireVoiceLog(c.clone())),
        VoiceLog::Discarded(d) => CallLog::DiscardedCallLog(DiscardedCallLog(d.clone())),
    }
}

/// A video log as the `CallLog` it is rendered as.
pub(crate) fn video_log(log: Arc<VideoLog>) -> CallLog {
    match &*log {
        VideoLog::Session(s) => CallLog::SignalWireVideoLog(SignalWireVideoLog(s.clone())),
        VideoLog::Discarded(d) => CallLog::DiscardedCallLog(DiscardedCallLog(d.clone())),
    }
}

/// The connection of `signalWireVoiceLogs`.
pub(crate) type VoiceLogConnection = NamedConnection<Position, Flat<CallLog>, VoiceLogNames>;
/// The connection of `signalWireVideoLogs`.
pub(crate) type VideoLogConnection = NamedConnection<Position, Flat<CallLog>, VideoLogNames>;

/// SignalWire's root query fields (merged into `Query`).
#[derive(Default)]
pub(crate) struct SignalWireQuery;

connection_fields! {
    impl SignalWireQuery {
        /// SignalWire voice logs, newest first. Each page reads cached upstream pages
        /// (`links.next` followed verbatim); a cursor only works with the filter that made it.
        /// Edges are `CallLog`: `SignalWireVoiceLog`, or with `includeDeleted` also
        /// `DiscardedCallLog`; select the shared fields directly and the rest with
        /// `... on SignalWireVoiceLog` (one fragment, no union to unpack).
        fn signal_wire_voice_logs as "signalWireVoiceLogs"(ctx, filter: SignalWireLogFilter, page) -> VoiceLogConnection {
            let (service, filter) = (scope(ctx)?.service::<SignalWireScope>()?, filter.into_domain());
            let read = page.read(ctx, &filter, |after, n| service.voice_logs(&filter, after, n));
            Ok(read.await?.connection(|log| Flat(voice_log(log))))
        }

        /// SignalWire video logs, newest first, paged like `signalWireVoiceLogs`. Edges are
        /// `CallLog`: `SignalWireVideoLog`, or with `includeDeleted` also `DiscardedCallLog`.
        fn signal_wire_video_logs as "signalWireVideoLogs"(ctx, filter: SignalWireLogFilter, page) -> VideoLogConnection {
            let (service, filter) = (scope(ctx)?.service::<SignalWireScope>()?, filter.into_domain());
            let read = page.read(ctx, &filter, |after, n| service.video_logs(&filter, after, n));
            Ok(read.await?.connection(|log| Flat(video_log(log))))
        }
    }
}

/// Resolves SignalWire voice logs' global ids (`crate::graphql::node`).
pub(crate) const VOICE_NODES: Loaded<SignalWireScope, VoiceLogLoader> = Loaded {
    kinds: &[VOICE_LOG],
    loader: |scope| &scope.voice,
    render: |log| Node::from(voice_log(log)),
};

/// Resolves SignalWire video logs' global ids.
pub(crate) const VIDEO_NODES: Loaded<SignalWireScope, VideoLogLoader> = Loaded {
    kinds: &[VIDEO_LOG],
    loader: |scope| &scope.video,
    render: |log| Node::from(video_log(log)),
};

/// A SignalWire collection in the `callLogs` timeline (deleted logs excluded).
pub(crate) struct TimelineCollection {
    name: &'static str,
    video: bool,
}

/// Voice logs in the timeline.
pub(crate) const VOICE_STREAM: TimelineCollection = TimelineCollection {
    name: "SignalWireVoice",
    video: false,
};
/// Video logs in the timeline.
pub(crate) const VIDEO_STREAM: TimelineCollection = TimelineCollection {
    name: "SignalWireVideo",
    video: true,
};

impl TimelineStream<CallLogs> for TimelineCollection {
    fn name(&self) -> &'static str {
        self.name
    }
    fn provider(&self) -> Provider {
        Provider::SignalWire
    }
    fn window<'a>(
        &'a self,
        scope: &'a RequestScope,
        plan: &'a Plan,
        position: &'a Option<serde_json::Value>,
        n: usize,
    ) -> WindowFuture<'a, CallLogs> {
        Box::pin(async move {
            let filter = ListFilter {
                created_after: plan.created_after,
                created_before: plan.created_before,
                created_on: None,
                include_deleted: false,
            };
            let service = &scope.get::<SignalWireScope>()?.service;
            let after = decode_position(position)?;
            Ok(if self.video {
                let w = service.video_logs(&filter, after, n).await?;
                scan(w.edges, w.has_next, &plan.post, |l| l.core(), video_log).with_error(w.error)
            } else {
                let w = service.voice_logs(&filter, after, n).await?;
                scan(w.edges, w.has_next, &plan.post, |l| l.core(), voice_log).with_error(w.error)
            })
        })
    }
}

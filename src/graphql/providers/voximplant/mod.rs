//! Voximplant's GraphQL types (`VoximplantCallSession` and its calls, records and
//! resource usage) and the `voximplantCallSessions` connection.

pub(crate) mod audit;
pub(crate) mod reports;

use std::borrow::Cow;
use std::sync::Arc;

use async_graphql::{ID, InputObject, Object};

use crate::domain::{CallLogCore, NodeKind, Provider};
use crate::graphql::call_log::{CallLog, Node, call_log_object};
use crate::graphql::connection::{CountedConnection, connection_fields, connection_names};
use crate::graphql::error::GatewayError;
use crate::graphql::flat::Flat;
use crate::graphql::node::Loaded;
use crate::graphql::plan::{OwnField, own_leaf};
use crate::graphql::scalars::{DateTime, Json};
use crate::graphql::scope::{ProviderScope, RequestScope, scope};
use crate::graphql::timeline::CallLogs;
use crate::graphql::values::{Money, numeric_id, opt_int32, parse_numeric_id};
use crate::providers::voximplant::paging::Position;
use crate::providers::voximplant::{
    AuditEntryLoader, CALL_SESSION, CallSessionLoader, SessionFilter, Voximplant, model, session_key,
};
use crate::request::{CallBudget, spawn_in_budget};
use crate::tenancy::Tenant;
use crate::timeline::{CountFuture, Plan, TimelineStream, WindowFuture, decode_position, scan};

/// A Voximplant JS session (`call_session_history_id`) with its calls.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct VoximplantCallSession(pub Arc<model::CallSession>);

impl VoximplantCallSession {
    fn core(&self) -> &CallLogCore {
        &self.0.core
    }
    fn id_kind(&self) -> NodeKind {
        CALL_SESSION
    }
    fn id_native(&self) -> Cow<'_, str> {
        Cow::Owned(session_key(self.0.id, self.0.core.created_at))
    }
}

fn money(m: &Option<crate::domain::Money>) -> Option<Money> {
    m.as_ref().map(Into::into)
}

/// Voximplant's part of a request's scope: its service and loaders.
pub(crate) struct VoximplantScope {
    pub service: Arc<Voximplant>,
    pub sessions: async_graphql::dataloader::DataLoader<CallSessionLoader>,
    pub audit_entries: async_graphql::dataloader::DataLoader<AuditEntryLoader>,
}

impl ProviderScope for VoximplantScope {
    const PROVIDER: Provider = Provider::Voximplant;
    type Service = Voximplant;
    fn service(&self) -> &Arc<Self::Service> {
        &self.service
    }
}

/// Builds Voximplant's part of a request scope (`providers::PARTS`).
pub(crate) fn request_part(tenant: &Tenant, budget: &Arc<CallBudget>) -> Option<Box<dyn std::any::Any + Send + Sync>> {
    use async_graphql::dataloader::DataLoader;
    let service = tenant.service::<Voximplant>()?;
    let spawn = || spawn_in_budget(budget.clone());
    Some(Box::new(VoximplantScope {
        sessions: DataLoader::new(CallSessionLoader(service.clone()), spawn()),
        audit_entries: DataLoader::new(AuditEntryLoader(service.clone()), spawn()),
        service,
    }))
}

call_log_object! {
    /// A Voximplant JS session. The `CallLog` fields are derived: `from`/`to`/`direction`
    /// come from the first call (incoming: from = remote number, to = local number,
    /// INBOUND; otherwise the reverse, OUTBOUND; no calls: null and UNKNOWN). `status`:
    /// no finish reason yet -> IN_PROGRESS; "Normal termination" -> COMPLETED when a call
    /// succeeded or there were no calls, else NO_ANSWER; any other finish reason -> FAILED
    /// (`providerStatus` is the finish reason). `createdAt`/`startedAt` are `start_date`,
    /// `endedAt` adds `duration`. `cost` sums calls, records and other resource usage in
    /// the account currency (null when none is reported).
    VoximplantCallSession {
        /// `call_session_history_id`.
        async fn session_id(&self) -> ID {
            numeric_id(self.0.id)
        }
        async fn account_id(&self) -> Option<ID> {
            self.0.account_id.map(numeric_id)
        }
        async fn application_id(&self) -> Option<ID> {
            self.0.application_id.map(numeric_id)
        }
        async fn application_name(&self) -> Option<&str> {
            self.0.application_name.as_deref()
        }
        async fn user_id(&self) -> Option<ID> {
            self.0.user_id.map(numeric_id)
        }
        /// The routing rule that started the session.
        async fn rule_name(&self) -> Option<&str> {
            self.0.rule_name.as_deref()
        }
        /// `Standard`, `HD` or `Ultra HD`.
        async fn audio_quality(&self) -> Option<&str> {
            self.0.audio_quality.as_deref()
        }
        async fn initiator_address(&self) -> Option<&str> {
            self.0.initiator_address.as_deref()
        }
        async fn media_server_address(&self) -> Option<&str> {
            self.0.media_server_address.as_deref()
        }
        /// Session log; Voximplant keeps it for one month.
        async fn log_file_url(&self) -> Option<&str> {
            self.0.log_file_url.as_deref().filter(|u| !u.is_empty())
        }
        /// e.g. `Normal termination`, `Insufficient funds`, `Timeout`.
        async fn finish_reason(&self) -> Option<&str> {
            self.0.finish_reason.as_deref()
        }
        async fn custom_data(&self) -> Option<&str> {
            self.0.custom_data.as_deref()
        }
        /// The calls of the session, in order.
        async fn calls(&self) -> Vec<VoximplantCall<'_>> {
            self.0.calls.iter().map(VoximplantCall).collect()
        }
        /// Recordings made in the session.
        async fn records(&self) -> Vec<VoximplantRecord<'_>> {
            self.0.records.iter().map(VoximplantRecord).collect()
        }
        /// Other billed resources (ASR, TTS, video, ...).
        async fn other_resource_usage(&self) -> Vec<VoximplantResourceUsage<'_>> {
            self.0.other_resource_usage.iter().map(VoximplantResourceUsage).collect()
        }
    }
}

/// The fields of `VoximplantCallSession` that compiled plans draw (`graphql::plan`), each
/// the value its resolver returns.
pub(super) const OWN_FIELDS: &[OwnField] = &[
    own_leaf!(VoximplantCallSession, "sessionId", |s| numeric_id(s.0.id)),
    own_leaf!(VoximplantCallSession, "accountId", |s| s.0.account_id.map(numeric_id)),
    own_leaf!(VoximplantCallSession, "applicationId", |s| s
        .0
        .application_id
        .map(numeric_id)),
    own_leaf!(VoximplantCallSession, "applicationName", |s| s
        .0
        .application_name
        .as_deref()),
    own_leaf!(VoximplantCallSession, "userId", |s| s.0.user_id.map(numeric_id)),
    own_leaf!(VoximplantCallSession, "ruleName", |s| s.0.rule_name.as_deref()),
    own_leaf!(VoximplantCallSession, "audioQuality", |s| s.0.audio_quality.as_deref()),
    own_leaf!(VoximplantCallSession, "initiatorAddress", |s| s
        .0
        .initiator_address
        .as_deref()),
    own_leaf!(VoximplantCallSession, "mediaServerAddress", |s| s
        .0
        .media_server_address
        .as_deref()),
    own_leaf!(VoximplantCallSession, "logFileUrl", |s| {
        s.0.log_file_url.as_deref().filter(|u| !u.is_empty())
    }),
    own_leaf!(VoximplantCallSession, "finishReason", |s| s.0.finish_reason.as_deref()),
    own_leaf!(VoximplantCallSession, "customData", |s| s.0.custom_data.as_deref()),
];

/// One call of a Voximplant session.
pub(crate) struct VoximplantCall<'a>(&'a model::Call);

#[Object]
impl VoximplantCall<'_> {
    async fn call_id(&self) -> ID {
        numeric_id(self.0.call_id)
    }
    async fn start_time(&self) -> DateTime {
        DateTime(self.0.start_time)
    }
    /// INBOUND when `incoming`, else OUTBOUND.
    async fn direction(&self) -> crate::graphql::values::CallDirection {
        if self.0.incoming {
            crate::graphql::values::CallDirection::Inbound
        } else {
            crate::graphql::values::CallDirection::Outbound
        }
    }
    async fn incoming(&self) -> bool {
        self.0.incoming
    }
    async fn successful(&self) -> bool {
        self.0.successful
    }
    /// Platform-side number.
    async fn local_number(&self) -> Option<&str> {
        self.0.local_number.as_deref()
    }
    /// Client-side number.
    async fn remote_number(&self) -> Option<&str> {
        self.0.remote_number.as_deref()
    }
    /// PSTN, mobile, user or sip.
    async fn remote_number_type(&self) -> Option<&str> {
        self.0.remote_number_type.as_deref()
    }
    async fn diversion_number(&self) -> Option<&str> {
        self.0.diversion_number.as_deref()
    }
    async fn duration_seconds(&self) -> async_graphql::Result<Option<i32>> {
        Ok(opt_int32(self.0.duration_seconds)?)
    }
    async fn cost(&self) -> Option<Money> {
        money(&self.0.cost)
    }
    async fn record_url(&self) -> Option<&str> {
        self.0.record_url.as_deref()
    }
    async fn transaction_id(&self) -> Option<ID> {
        self.0.transaction_id.map(numeric_id)
    }
    async fn media_server_address(&self) -> Option<&str> {
        self.0.media_server_address.as_deref()
    }
    async fn custom_data(&self) -> Option<&str> {
        self.0.custom_data.as_deref()
    }
    /// End reason code and description, as Voximplant sends it (shape undocumented).
    async fn end_reason(&self) -> Option<Json> {
        self.0.end_reason.clone().map(Json)
    }
}

/// A recording of a Voximplant session.
pub(crate) struct VoximplantRecord<'a>(&'a model::Recording);

#[Object]
impl VoximplantRecord<'_> {
    async fn record_id(&self) -> ID {
        numeric_id(self.0.record_id)
    }
    async fn record_name(&self) -> Option<&str> {
        self.0.record_name.as_deref()
    }
    async fn start_time(&self) -> DateTime {
        DateTime(self.0.start_time)
    }
    async fn duration_seconds(&self) -> async_graphql::Result<Option<i32>> {
        Ok(opt_int32(self.0.duration_seconds)?)
    }
    async fn cost(&self) -> Option<Money> {
        money(&self.0.cost)
    }
    async fn record_url(&self) -> Option<&str> {
        self.0.record_url.as_deref()
    }
    async fn transaction_id(&self) -> Option<ID> {
        self.0.transaction_id.map(numeric_id)
    }
    /// Size in MB, as reported.
    async fn file_size(&self) -> Option<f64> {
        self.0.file_size
    }
    async fn transcription_url(&self) -> Option<&str> {
        self.0.transcription_url.as_deref()
    }
    /// `Not required`, `In progress` or `Complete`.
    async fn transcription_status(&self) -> Option<&str> {
        self.0.transcription_status.as_deref()
    }
}

/// Another billed resource of a Voximplant session.
pub(crate) struct VoximplantResourceUsage<'a>(&'a model::ResourceUsage);

#[Object]
impl VoximplantResourceUsage<'_> {
    async fn resource_usage_id(&self) -> ID {
        numeric_id(self.0.resource_usage_id)
    }
    /// e.g. `ASR`, `TTS_TEXT_GOOGLE`, `VIDEOCALL`.
    async fn resource_type(&self) -> &str {
        &self.0.resource_type
    }
    async fn cost(&self) -> Option<Money> {
        money(&self.0.cost)
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn used_at(&self) -> DateTime {
        DateTime(self.0.used_at)
    }
    async fn transaction_id(&self) -> Option<ID> {
        self.0.transaction_id.map(numeric_id)
    }
    async fn resource_quantity(&self) -> async_graphql::Result<Option<i32>> {
        Ok(opt_int32(self.0.resource_quantity)?)
    }
    async fn unit(&self) -> Option<&str> {
        self.0.unit.as_deref()
    }
    async fn ref_call_id(&self) -> Option<ID> {
        self.0.ref_call_id.map(numeric_id)
    }
}

/// Filter of `voximplantCallSessions`; every field is applied by Voximplant.
#[derive(InputObject, Default)]
pub(crate) struct VoximplantCallSessionFilter {
    /// Sessions that started after this instant (exclusive, second precision). Without
    /// it the window starts the configured look-back (default 30 days) before its end.
    #[graphql(validator(custom = "crate::graphql::values::in_date_range"))]
    pub created_after: Option<DateTime>,
    /// Sessions that started before this instant (exclusive). Without it: now.
    #[graphql(validator(custom = "crate::graphql::values::in_date_range"))]
    pub created_before: Option<DateTime>,
    /// Client-side numbers (`remote_number`).
    pub remote_numbers: Option<Vec<String>>,
    /// Platform-side numbers (`local_number`).
    pub local_numbers: Option<Vec<String>>,
    /// Not together with `applicationName`.
    pub application_id: Option<ID>,
    /// Not together with `applicationId`.
    pub application_name: Option<String>,
    pub user_ids: Option<Vec<ID>>,
}

impl VoximplantCallSessionFilter {
    /// Refuses number filters the caller may not use (`[authorization]`).
    pub(super) fn check(&self, scope: &crate::graphql::scope::RequestScope) -> Result<(), GatewayError> {
        scope.check_filters(
            "VoximplantCallSessionFilter",
            &[
                ("remoteNumbers", self.remote_numbers.is_some()),
                ("localNumbers", self.local_numbers.is_some()),
            ],
        )
    }

    pub(super) fn into_domain(self) -> Result<SessionFilter, GatewayError> {
        if self.application_id.is_some() && self.application_name.is_some() {
            return Err(GatewayError::bad_input(
                "give `applicationId` or `applicationName`, not both",
            ));
        }
        Ok(SessionFilter {
            created_after: self.created_after.map(|t| t.0),
            created_before: self.created_before.map(|t| t.0),
            remote_numbers: self.remote_numbers.unwrap_or_default(),
            local_numbers: self.local_numbers.unwrap_or_default(),
            application_id: self.application_id.as_ref().map(parse_numeric_id).transpose()?,
            application_name: self.application_name,
            user_ids: self
                .user_ids
                .unwrap_or_default()
                .iter()
                .map(parse_numeric_id)
                .collect::<Result<_, _>>()?,
        })
    }
}

connection_names!(
    SessionNames,
    "VoximplantCallSessionConnection",
    "VoximplantCallSessionEdge"
);

/// Its edges name the one type it returns, so typed clients need no union.
pub(crate) type SessionConnection = CountedConnection<Position, Flat<VoximplantCallSession>, SessionNames>;

/// A session as the `CallLog` it is rendered as.
pub(crate) fn call_session(session: Arc<model::CallSession>) -> CallLog {
    CallLog::VoximplantCallSession(VoximplantCallSession(session))
}

/// Voximplant's root query fields (merged into `Query`).
#[derive(Default)]
pub(crate) struct VoximplantQuery;

connection_fields! {
    impl VoximplantQuery {
        /// Voximplant call sessions (GetCallHistory), newest first. Voximplant requires a date
        /// window: without `createdAfter` it spans the configured look-back (default 30 days)
        /// before `createdBefore` or now, fixed when the first page is read. Paging goes past
        /// Voximplant's 10,000-offset cap by moving the window and skipping seen sessions.
        fn voximplant_call_sessions as "voximplantCallSessions"(ctx, filter: VoximplantCallSessionFilter, page) -> SessionConnection {
            filter.check(scope(ctx)?)?;
            let (service, filter) = (scope(ctx)?.service::<VoximplantScope>()?, filter.into_domain()?);
            let read = page.read(ctx, &filter, |after, n| service.sessions(&filter, after, n));
            Ok(read.await?.counted(|s| Flat(VoximplantCallSession(s)), (service, filter), |(s, f), at| async move {
                s.count(&f, at.as_ref()).await
            }))
        }
    }
}

/// Resolves the global ids of Voximplant call sessions (`crate::graphql::node`).
pub(crate) const NODES: Loaded<VoximplantScope, CallSessionLoader> = Loaded {
    kinds: &[CALL_SESSION],
    loader: |scope| &scope.sessions,
    render: |session| Node::from(call_session(session)),
};

/// Voximplant's call sessions in the `callLogs` timeline (within its look-back window
/// unless `createdAfter` is given); it counts with one `with_total_count` call.
pub(crate) struct TimelineCollection;
pub(crate) const STREAM: TimelineCollection = TimelineCollection;

impl TimelineCollection {
    fn filter(plan: &Plan) -> SessionFilter {
        SessionFilter {
            created_after: plan.created_after,
            created_before: plan.created_before,
            ..Default::default()
        }
    }
}

impl TimelineStream<CallLogs> for TimelineCollection {
    fn name(&self) -> &'static str {
        "Voximplant"
    }
    fn provider(&self) -> Provider {
        Provider::Voximplant
    }
    fn window<'a>(
        &'a self,
        scope: &'a RequestScope,
        plan: &'a Plan,
        position: &'a Option<serde_json::Value>,
        n: usize,
    ) -> WindowFuture<'a, CallLogs> {
        Box::pin(async move {
            let service = &scope.get::<VoximplantScope>()?.service;
            let w = service
                .sessions(&Self::filter(plan), decode_position(position)?, n)
                .await?;
            Ok(scan(w.edges, w.has_next, &plan.post, |s| &s.core, call_session).with_error(w.error))
        })
    }
    /// Exact when nothing is left for the gateway to check.
    fn can_count(&self, plan: &Plan) -> bool {
        plan.post.is_empty()
    }
    fn count<'a>(
        &'a self,
        scope: &'a RequestScope,
        plan: &'a Plan,
        position: &'a Option<serde_json::Value>,
    ) -> CountFuture<'a, CallLogs> {
        Box::pin(async move {
            let service = &scope.get::<VoximplantScope>()?.service;
            let filter = Self::filter(plan);
            let cursor = decode_position::<Position>(position)?;
            Ok(service.count(&filter, cursor.as_ref()).await?)
        })
    }
}

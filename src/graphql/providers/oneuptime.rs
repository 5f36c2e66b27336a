//! OneUptime's GraphQL types (`OneUptimeCallLog`) and its connection, whose filter is
//! pushed into OneUptime's own `query` and whose `totalCount` calls `/count` only when
//! selected.

use std::sync::Arc;

use async_graphql::{Enum, ID, InputObject};
use uuid::Uuid;

use crate::domain::{CallLogCore, NodeKind, Provider};
use crate::graphql::call_log::{CallLog, Node, call_log_object};
use crate::graphql::connection::{CountedConnection, connection_fields, connection_names};
use crate::graphql::error::GatewayError;
use crate::graphql::flat::Flat;
use crate::graphql::node::Loaded;
use crate::graphql::plan::{OwnField, own_leaf};
use crate::graphql::scalars::{DateTime, Decimal, Json};
use crate::graphql::scope::{ProviderScope, RequestScope, scope};
use crate::graphql::timeline::CallLogs;
use crate::providers::oneuptime::paging::Position;
use crate::providers::oneuptime::{CALL_LOG, CallLogLoader, ListFilter, OneUptime, model};
use crate::request::{CallBudget, spawn_in_budget};
use crate::tenancy::Tenant;
use crate::timeline::{CountFuture, Plan, TimelineStream, WindowFuture, decode_position, scan};

/// OneUptime's part of a request's scope: its service and loader.
pub(crate) struct OneUptimeScope {
    pub service: Arc<OneUptime>,
    pub call_logs: async_graphql::dataloader::DataLoader<CallLogLoader>,
}

impl ProviderScope for OneUptimeScope {
    const PROVIDER: Provider = Provider::OneUptime;
    type Service = OneUptime;
    fn service(&self) -> &Arc<Self::Service> {
        &self.service
    }
}

/// Builds OneUptime's part of a request scope (`providers::PARTS`).
pub(crate) fn request_part(tenant: &Tenant, budget: &Arc<CallBudget>) -> Option<Box<dyn std::any::Any + Send + Sync>> {
    let service = tenant.service::<OneUptime>()?;
    let spawn = spawn_in_budget(budget.clone());
    Some(Box::new(OneUptimeScope {
        call_logs: async_graphql::dataloader::DataLoader::new(CallLogLoader(service.clone()), spawn),
        service,
    }))
}

/// A call OneUptime placed to notify someone (on-call alerts, incidents, ...).
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct OneUptimeCallLog(pub Arc<model::CallLog>);

impl OneUptimeCallLog {
    fn core(&self) -> &CallLogCore {
        &self.0.core
    }
    fn id_native(&self) -> std::borrow::Cow<'_, str> {
        std::borrow::Cow::Borrowed(&self.0.core.native_id)
    }
    fn id_kind(&self) -> NodeKind {
        CALL_LOG
    }
}

call_log_object! {
    /// A call OneUptime placed to notify someone. `direction` is always OUTBOUND; `status`
    /// maps Success -> PLACED (OneUptime writes it once the call was handed to its
    /// telephony provider, before anyone could answer, and never updates it), Error and
    /// Low Balance -> FAILED, Missed Call -> NO_ANSWER, Busy -> BUSY, anything else ->
    /// UNKNOWN (raw value in `providerStatus`); `cost` is `callCostInUSDCents` in dollars.
    OneUptimeCallLog {
        /// The OneUptime project the call belongs to.
        async fn project_id(&self) -> Option<ID> {
            self.0.project_id.clone().map(ID)
        }
        /// Status message, if any.
        async fn status_message(&self) -> Option<&str> {
            self.0.status_message.as_deref()
        }
        /// What was said in the call (free-form JSON, as OneUptime stores it).
        async fn call_data(&self) -> Json {
            Json(self.0.call_data.clone())
        }
        /// The raw `callCostInUSDCents`.
        #[graphql(name = "callCostInUSDCents")]
        async fn call_cost_in_usd_cents(&self) -> Decimal {
            Decimal(self.0.cost_in_usd_cents)
        }
        /// When OneUptime last updated the log.
        async fn updated_at(&self) -> Option<DateTime> {
            self.0.updated_at.map(DateTime)
        }
        /// Incident the call was about, if any.
        async fn incident_id(&self) -> Option<ID> {
            self.0.related.incident_id.clone().map(ID)
        }
        /// User who initiated the call, if any.
        async fn user_id(&self) -> Option<ID> {
            self.0.related.user_id.clone().map(ID)
        }
        /// Alert the call was about, if any.
        async fn alert_id(&self) -> Option<ID> {
            self.0.related.alert_id.clone().map(ID)
        }
        /// Monitor the call was about, if any.
        async fn monitor_id(&self) -> Option<ID> {
            self.0.related.monitor_id.clone().map(ID)
        }
        /// Scheduled maintenance event the call was about, if any.
        async fn scheduled_maintenance_id(&self) -> Option<ID> {
            self.0.related.scheduled_maintenance_id.clone().map(ID)
        }
        /// Status page the call was about, if any.
        async fn status_page_id(&self) -> Option<ID> {
            self.0.related.status_page_id.clone().map(ID)
        }
        /// Status page announcement the call was about, if any.
        async fn status_page_announcement_id(&self) -> Option<ID> {
            self.0.related.status_page_announcement_id.clone().map(ID)
        }
        /// On-call duty policy that placed the call, if any.
        async fn on_call_duty_policy_id(&self) -> Option<ID> {
            self.0.related.on_call_duty_policy_id.clone().map(ID)
        }
        /// Escalation rule of that policy, if any.
        async fn on_call_duty_policy_escalation_rule_id(&self) -> Option<ID> {
            self.0.related.on_call_duty_policy_escalation_rule_id.clone().map(ID)
        }
        /// On-call schedule of that policy, if any.
        async fn on_call_duty_policy_schedule_id(&self) -> Option<ID> {
            self.0.related.on_call_duty_policy_schedule_id.clone().map(ID)
        }
        /// Team the call was for, if any.
        async fn team_id(&self) -> Option<ID> {
            self.0.related.team_id.clone().map(ID)
        }
    }
}

/// The fields of `OneUptimeCallLog` that compiled plans draw (`graphql::plan`), each the
/// value its resolver returns.
pub(super) const OWN_FIELDS: &[OwnField] = &[
    own_leaf!(OneUptimeCallLog, "projectId", |log| log.0.project_id.clone().map(ID)),
    own_leaf!(OneUptimeCallLog, "statusMessage", |log| log.0.status_message.as_deref()),
    own_leaf!(OneUptimeCallLog, "callData", |log| Json(log.0.call_data.clone())),
    own_leaf!(OneUptimeCallLog, "callCostInUSDCents", |log| Decimal(
        log.0.cost_in_usd_cents
    )),
    own_leaf!(OneUptimeCallLog, "updatedAt", |log| log.0.updated_at.map(DateTime)),
    own_leaf!(OneUptimeCallLog, "incidentId", |log| log
        .0
        .related
        .incident_id
        .clone()
        .map(ID)),
    own_leaf!(OneUptimeCallLog, "userId", |log| log.0.related.user_id.clone().map(ID)),
    own_leaf!(OneUptimeCallLog, "alertId", |log| log
        .0
        .related
        .alert_id
        .clone()
        .map(ID)),
    own_leaf!(OneUptimeCallLog, "monitorId", |log| log
        .0
        .related
        .monitor_id
        .clone()
        .map(ID)),
    own_leaf!(OneUptimeCallLog, "scheduledMaintenanceId", |log| {
        log.0.related.scheduled_maintenance_id.clone().map(ID)
    }),
    own_leaf!(OneUptimeCallLog, "statusPageId", |log| log
        .0
        .related
        .status_page_id
        .clone()
        .map(ID)),
    own_leaf!(OneUptimeCallLog, "statusPageAnnouncementId", |log| {
        log.0.related.status_page_announcement_id.clone().map(ID)
    }),
    own_leaf!(OneUptimeCallLog, "onCallDutyPolicyId", |log| {
        log.0.related.on_call_duty_policy_id.clone().map(ID)
    }),
    own_leaf!(OneUptimeCallLog, "onCallDutyPolicyEscalationRuleId", |log| {
        log.0.related.on_call_duty_policy_escalation_rule_id.clone().map(ID)
    }),
    own_leaf!(OneUptimeCallLog, "onCallDutyPolicyScheduleId", |log| {
        log.0.related.on_call_duty_policy_schedule_id.clone().map(ID)
    }),
    own_leaf!(OneUptimeCallLog, "teamId", |log| log.0.related.team_id.clone().map(ID)),
];

/// OneUptime's own call statuses.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum OneUptimeCallStatus {
    Success,
    Error,
    LowBalance,
    MissedCall,
    Busy,
}

impl OneUptimeCallStatus {
    fn wire(self) -> &'static str {
        match self {
            OneUptimeCallStatus::Success => "Success",
            OneUptimeCallStatus::Error => "Error",
            OneUptimeCallStatus::LowBalance => "Low Balance",
            OneUptimeCallStatus::MissedCall => "Missed Call",
            OneUptimeCallStatus::Busy => "Busy",
        }
    }
}

/// Filter of `oneUptimeCallLogs`; every field is applied by OneUptime itself.
#[derive(InputObject, Default)]
pub(crate) struct OneUptimeCallLogFilter {
    /// Only logs created after this instant (exclusive).
    #[graphql(validator(custom = "crate::graphql::values::in_date_range"))]
    pub created_after: Option<DateTime>,
    /// Only logs created before this instant (exclusive).
    #[graphql(validator(custom = "crate::graphql::values::in_date_range"))]
    pub created_before: Option<DateTime>,
    /// Only logs with one of these statuses.
    pub statuses: Option<Vec<OneUptimeCallStatus>>,
    /// Exact calling number: 10 to 13 digits, optionally after `+`; spaces, dashes, dots
    /// and parentheses are ignored. Anything else is refused, as OneUptime refuses it.
    pub from_number: Option<String>,
    /// Exact called number, written as `fromNumber`.
    pub to_number: Option<String>,
    /// OneUptime incident id (UUID).
    pub incident_id: Option<ID>,
    /// OneUptime monitor id (UUID).
    pub monitor_id: Option<ID>,
    /// OneUptime user id (UUID).
    pub user_id: Option<ID>,
    /// OneUptime team id (UUID).
    pub team_id: Option<ID>,
}

impl OneUptimeCallLogFilter {
    /// The provider filter (cursors are bound to its serialized form).
    fn into_domain(self) -> Result<ListFilter, GatewayError> {
        let uuid = |name: &str, id: Option<ID>| -> Result<Option<String>, GatewayError> {
            id.map(|id| {
                Uuid::parse_str(&id)
                    .map(|u| u.to_string())
                    .map_err(|_| GatewayError::bad_input(format!("`filter.{name}` must be a UUID")))
            })
            .transpose()
        };
        let phone = |name: &str, number: Option<String>| -> Result<Option<String>, GatewayError> {
            number
                .map(|n| {
                    crate::providers::oneuptime::phone_filter(&n)
                        .map_err(|e| GatewayError::bad_input(format!("`filter.{name}`: {e}")))
                })
                .transpose()
        };
        let mut statuses: Vec<String> = self
            .statuses
            .unwrap_or_default()
            .into_iter()
            .map(|s| s.wire().to_string())
            .collect();
        statuses.sort();
        statuses.dedup();
        let filter = ListFilter {
            created_after: self.created_after.map(|t| t.0),
            created_before: self.created_before.map(|t| t.0),
            statuses,
            from_number: phone("fromNumber", self.from_number)?,
            to_number: phone("toNumber", self.to_number)?,
            incident_id: uuid("incidentId", self.incident_id)?,
            monitor_id: uuid("monitorId", self.monitor_id)?,
            user_id: uuid("userId", self.user_id)?,
            team_id: uuid("teamId", self.team_id)?,
        };
        Ok(filter)
    }
}

connection_names!(CallLogNames, "OneUptimeCallLogConnection", "OneUptimeCallLogEdge");

/// The connection type of `oneUptimeCallLogs`; its edges name the one type it returns,
/// so typed clients need no union.
pub(crate) type OneUptimeConnection = CountedConnection<Position, Flat<OneUptimeCallLog>, CallLogNames>;

/// A OneUptime call log as the `CallLog` it is rendered as.
pub(crate) fn call_log(log: Arc<model::CallLog>) -> CallLog {
    CallLog::OneUptimeCallLog(OneUptimeCallLog(log))
}

/// OneUptime's root query fields (merged into `Query`).
#[derive(Default)]
pub(crate) struct OneUptimeQuery;

connection_fields! {
    impl OneUptimeQuery {
        /// OneUptime call logs, newest first. Paging is keyset-based on (createdAt, id), so
        /// calls logged while you page never shift or repeat items.
        fn one_uptime_call_logs as "oneUptimeCallLogs"(ctx, filter: OneUptimeCallLogFilter, page) -> OneUptimeConnection {
            scope(ctx)?.check_filters(
                "OneUptimeCallLogFilter",
                &[("fromNumber", filter.from_number.is_some()), ("toNumber", filter.to_number.is_some())],
            )?;
            let (service, filter) = (scope(ctx)?.service::<OneUptimeScope>()?, filter.into_domain()?);
            let read = page.read(ctx, &filter, |after, n| service.call_logs(&filter, after, n));
            Ok(read.await?.counted(|log| Flat(OneUptimeCallLog(log)), (service, filter), |(s, f), _| async move {
                s.count(&f).await
            }))
        }
    }
}

/// Resolves OneUptime's global ids (`crate::graphql::node`).
pub(crate) const NODES: Loaded<OneUptimeScope, CallLogLoader> = Loaded {
    kinds: &[CALL_LOG],
    loader: |scope| &scope.call_logs,
    render: |log| Node::from(call_log(log)),
};

/// OneUptime's call logs in the `callLogs` timeline: dates and statuses are applied
/// upstream, and it counts with one `/count` call.
pub(crate) struct TimelineCollection;
pub(crate) const STREAM: TimelineCollection = TimelineCollection;

impl TimelineCollection {
    /// OneUptime's raw statuses for the normalized ones asked (None: no status filter
    /// upstream, because none was asked or `UNKNOWN` was, which only the gateway checks).
    fn statuses(plan: &Plan) -> Option<Vec<String>> {
        let asked = plan.post.statuses.as_deref()?;
        crate::providers::oneuptime::raw_statuses(|s| asked.contains(&s))
    }

    fn filter(plan: &Plan) -> ListFilter {
        ListFilter {
            created_after: plan.created_after,
            created_before: plan.created_before,
            statuses: Self::statuses(plan).unwrap_or_default(),
            ..Default::default()
        }
    }
}

impl TimelineStream<CallLogs> for TimelineCollection {
    fn name(&self) -> &'static str {
        "OneUptime"
    }
    fn provider(&self) -> Provider {
        Provider::OneUptime
    }
    fn window<'a>(
        &'a self,
        scope: &'a RequestScope,
        plan: &'a Plan,
        position: &'a Option<serde_json::Value>,
        n: usize,
    ) -> WindowFuture<'a, CallLogs> {
        Box::pin(async move {
            let service = &scope.get::<OneUptimeScope>()?.service;
            let w = service
                .call_logs(&Self::filter(plan), decode_position(position)?, n)
                .await?;
            Ok(scan(w.edges, w.has_next, &plan.post, |l| &l.core, call_log).with_error(w.error))
        })
    }
    /// No OneUptime status can match the normalized statuses asked.
    fn excluded(&self, plan: &Plan) -> bool {
        Self::statuses(plan).is_some_and(|s| s.is_empty())
    }
    /// Exact when OneUptime applies the whole filter upstream.
    fn can_count(&self, plan: &Plan) -> bool {
        plan.post.only_statuses() && (plan.post.statuses.is_none() || Self::statuses(plan).is_some())
    }
    fn count<'a>(
        &'a self,
        scope: &'a RequestScope,
        plan: &'a Plan,
        _position: &'a Option<serde_json::Value>,
    ) -> CountFuture<'a, CallLogs> {
        Box::pin(async move {
            if self.excluded(plan) {
                return Ok(0);
            }
            Ok(scope
                .get::<OneUptimeScope>()?
                .service
                .count(&Self::filter(plan))
                .await?)
        })
    }
}

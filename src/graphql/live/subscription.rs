//! `Subscription.callLogEvents`: the hub's events of the caller's tenant, filtered as
//! `callLogs` filters, each rendered under the caller's rules; with `after`, what the
//! caller missed first (the hub's recent events, and new calls from the timeline when
//! those do not reach back far enough), then live events, with no gap and no duplicate.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use async_graphql::{Context, Enum, Object, Subscription};
use chrono::{DateTime, Utc};
use futures::Stream;
use serde::{Deserialize, Serialize};

use super::super::CursorCodec;
use super::super::call_log::CallLog;
use super::super::connection::canonical_filter;
use super::super::error::{ErrorCode, GatewayError};
use super::super::flat::{Flat, SharedFields};
use super::super::scope::{RequestScope, scope};
use super::super::timeline::{CallLogFilter, CallLogs};
use super::LiveFeed;
use crate::live::{Event, EventKind, Next, Subscriber};
use crate::timeline::{self, PageRequest, Position};

/// The connection name event cursors are bound to.
const EVENTS: &str = "callLogEvents";

/// The root subscription type.
#[derive(Default)]
pub struct Subscription;

#[Subscription]
impl Subscription {
    /// New calls and status changes of calls, newest events as they happen; `after` resumes.
    ///
    /// `after` takes a `callLogs` cursor (of the same filter: the first edge's, to follow
    /// the timeline from its top) or an event's `cursor`; what the caller missed since
    /// arrives first. A subscriber that falls `live.buffer` events behind gets a
    /// `SUBSCRIPTION_LAGGED` error and the subscription completes; resume it with `after`.
    async fn call_log_events(
        &self,
        ctx: &Context<'_>,
        filter: Option<CallLogFilter>,
        after: Option<String>,
    ) -> Result<impl Stream<Item = Result<CallLogEvent, GatewayError>> + use<>, GatewayError> {
        events(ctx, filter.unwrap_or_default(), after).await
    }
}

/// What happened to the call.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallLogEventKind {
    /// A call the gateway had not seen before.
    Created,
    /// A call seen before changed (its status).
    Updated,
}

impl From<EventKind> for CallLogEventKind {
    fn from(kind: EventKind) -> Self {
        match kind {
            EventKind::Created => CallLogEventKind::Created,
            EventKind::Updated => CallLogEventKind::Updated,
        }
    }
}

/// One new call or status change.
pub(crate) struct CallLogEvent {
    cursor: String,
    kind: CallLogEventKind,
    node: CallLog,
}

#[Object]
impl CallLogEvent {
    /// Resumes the subscription after this event (`after`).
    async fn cursor(&self) -> &str {
        &self.cursor
    }
    async fn kind(&self) -> CallLogEventKind {
        self.kind
    }
    /// The call as it is now.
    async fn node(&self) -> Flat<CallLog> {
        Flat(self.node.clone())
    }
}

/// Where an event cursor resumes: the event's instant (ms) and id.
#[derive(Serialize, Deserialize)]
struct EventPosition {
    t: i64,
    i: String,
}

/// Where a subscription resumes: an instant, and the event there when a cursor named one.
type ResumePoint = (DateTime<Utc>, Option<String>);

/// What the subscription's cursors are bound to: the tenant and view, and the filter.
struct Binding {
    codec: CursorCodec,
    tenant: String,
    filter: String,
}

impl Binding {
    fn new(ctx: &Context<'_>, request: &RequestScope, filter: &timeline::Filter) -> Result<Self, GatewayError> {
        let codec = ctx
            .data::<CursorCodec>()
            .map_err(|_| GatewayError::internal("cursor codec missing from the schema data"))?
            .clone();
        // As `callLogs` binds its cursors: the tenant, and the caller's view when masked.
        let tenant = match request.access.view().bits() {
            0 => request.tenant.id.as_str().to_string(),
            view => format!("{}\0view:{view:x}", request.tenant.id.as_str()),
        };
        Ok(Binding {
            codec,
            tenant,
            filter: canonical_filter(filter),
        })
    }

    fn cursor(&self, at: DateTime<Utc>, id: &str) -> String {
        let position = EventPosition {
            t: at.timestamp_millis(),
            i: id.to_string(),
        };
        self.codec.encode(&self.tenant, EVENTS, &self.filter, &position)
    }

    /// Where `after` resumes: an event cursor's instant and event, or a `callLogs`
    /// cursor's last item's instant.
    fn resume_point(&self, after: &str) -> Result<Option<ResumePoint>, GatewayError> {
        if let Ok(event) = self
            .codec
            .decode::<EventPosition>(&self.tenant, EVENTS, &self.filter, after)
        {
            let at =
                DateTime::from_timestamp_millis(event.t).ok_or_else(|| GatewayError::bad_input("invalid cursor"))?;
            return Ok(Some((at, Some(event.i))));
        }
        let position: Position<CallLogs> = self
            .codec
            .decode(&self.tenant, "callLogs", &self.filter, after)
            .map_err(|_| {
                GatewayError::bad_input(
                    "invalid `after`: neither an event cursor nor a `callLogs` cursor of this filter and caller",
                )
            })?;
        Ok(position.last_emitted_at().map(|at| (at, None)))
    }
}

/// A subscription's state between events.
struct Feed {
    replay: VecDeque<CallLogEvent>,
    /// Event ids already sent (by the replay), skipped when they arrive live.
    sent: HashSet<Arc<str>>,
    subscriber: Subscriber<CallLog>,
    filter: EventFilter,
    binding: Binding,
    ended: bool,
}

fn event_of(binding: &Binding, event: &Event<CallLog>) -> CallLogEvent {
    CallLogEvent {
        cursor: binding.cursor(event.at, &event.id),
        kind: event.kind.into(),
        node: event.payload.clone(),
    }
}

/// Which events a subscription passes: `callLogs`'s filter (its providers, and the
/// timeline's own check of one item, `timeline::Plan::admits`), and deleted logs only when
/// asked for by status, as `callLogs` leaves them out.
struct EventFilter {
    providers: Option<Vec<crate::domain::Provider>>,
    plan: timeline::Plan,
    deleted_asked: bool,
}

impl EventFilter {
    fn new(filter: &timeline::Filter) -> Self {
        let deleted = crate::domain::CallStatus::Deleted;
        EventFilter {
            providers: filter.providers.clone(),
            deleted_asked: filter.statuses.as_ref().is_some_and(|s| s.contains(&deleted)),
            plan: timeline::Plan::new(filter.clone(), 1),
        }
    }

    fn matches(&self, log: &CallLog) -> bool {
        let core = log.core();
        (core.status != crate::domain::CallStatus::Deleted || self.deleted_asked)
            && self.providers.as_ref().is_none_or(|p| p.contains(&core.provider))
            && self.plan.admits(core)
    }
}

async fn events(
    ctx: &Context<'_>,
    filter: CallLogFilter,
    after: Option<String>,
) -> Result<impl Stream<Item = Result<CallLogEvent, GatewayError>> + use<>, GatewayError> {
    let request = scope(ctx)?;
    request.check_filters("CallLogFilter", &[("number", filter.number.is_some())])?;
    let feed = ctx
        .data::<Arc<LiveFeed>>()
        .map_err(|_| GatewayError::bad_input("live updates are turned off on this gateway (live.enabled = false)"))?;
    let filter: timeline::Filter = filter.into();
    let binding = Binding::new(ctx, request, &filter)?;
    let resume = after.as_deref().map(|a| binding.resume_point(a)).transpose()?.flatten();
    // Subscribed before the missed events are read: nothing published meanwhile is lost.
    let subscriber = feed.hub().subscribe(&request.tenant.id).map_err(|e| match e {
        crate::live::LiveError::TooManySubscriptions { .. } => {
            GatewayError::new(ErrorCode::TooManySubscriptions, e.to_string())
        }
        crate::live::LiveError::ShuttingDown => GatewayError::new(ErrorCode::Overloaded, e.to_string()),
    })?;
    feed.watch(&request.tenant.id);
    let passes = EventFilter::new(&filter);
    let mut replay = VecDeque::new();
    let mut sent = HashSet::new();
    if let Some((at, id)) = resume {
        let (kept, whole) = feed.hub().since(&request.tenant.id, at, id.as_deref());
        if !whole {
            let created: HashSet<String> = kept
                .iter()
                .filter(|e| e.kind == EventKind::Created)
                .map(|e| e.payload.global_id())
                .collect();
            for log in missed_calls(request, &filter, at, feed.config().resume_max_items).await? {
                if created.contains(&log.global_id()) {
                    continue;
                }
                let cursor = binding.cursor(log.core().created_at, &log.global_id());
                replay.push_back(CallLogEvent {
                    cursor,
                    kind: CallLogEventKind::Created,
                    node: log,
                });
            }
        }
        for event in kept {
            sent.insert(event.id.clone());
            if passes.matches(&event.payload) {
                replay.push_back(event_of(&binding, &event));
            }
        }
    }
    let state = Feed {
        replay,
        sent,
        subscriber,
        filter: passes,
        binding,
        ended: false,
    };
    Ok(futures::stream::unfold(state, next))
}

/// The subscription's next item: the replay first, then live events.
async fn next(mut feed: Feed) -> Option<(Result<CallLogEvent, GatewayError>, Feed)> {
    if feed.ended {
        return None;
    }
    if let Some(event) = feed.replay.pop_front() {
        return Some((Ok(event), feed));
    }
    loop {
        match feed.subscriber.next().await {
            Next::Event(event) => {
                if feed.sent.remove(&event.id) || !feed.filter.matches(&event.payload) {
                    continue;
                }
                let item = event_of(&feed.binding, &event);
                return Some((Ok(item), feed));
            }
            Next::Lagged(missed) => {
                feed.ended = true;
                let error = GatewayError::new(
                    ErrorCode::SubscriptionLagged,
                    format!(
                        "this subscriber fell {missed} events behind its buffer; subscribe again with `after` set to the last event's cursor"
                    ),
                );
                return Some((Err(error), feed));
            }
            Next::Closed => return None,
        }
    }
}

/// The calls created after `at` that match `filter`, oldest first, read from the merged
/// timeline; more than `max` is `BAD_USER_INPUT` (page `callLogs` instead).
async fn missed_calls(
    request: &RequestScope,
    filter: &timeline::Filter,
    at: DateTime<Utc>,
    max: usize,
) -> Result<Vec<CallLog>, GatewayError> {
    let mut filter = filter.clone();
    filter.created_after = Some(filter.created_after.map_or(at, |t| t.max(at)));
    let mut found = Vec::new();
    let mut after = None;
    loop {
        let request_page = PageRequest::<CallLogs> {
            filter: filter.clone(),
            after: after.take(),
            first: 100,
            scan_bound: 1000,
        };
        let page = timeline::page(request, request_page, Clone::clone).await?;
        if let Some(failure) = page.failures.into_iter().next() {
            return Err(failure);
        }
        found.extend(page.edges.into_iter().map(|(_, log)| log));
        if found.len() > max {
            return Err(GatewayError::bad_input(format!(
                "more than {max} calls were made since `after` (live.resume_max_items): page `callLogs` to catch up, then subscribe with its first cursor"
            )));
        }
        if !page.has_next {
            break;
        }
        after = Some(page.resume);
    }
    found.reverse();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::domain::{CallDirection, CallLogCore, CallStatus, Provider, TenantId};
    use crate::live::{Hub, HubLimits};
    use crate::providers::oneuptime::model;

    fn log(id: &str, status: CallStatus) -> CallLog {
        let core = CallLogCore {
            provider: Provider::OneUptime,
            native_id: id.into(),
            from: None,
            to: None,
            direction: CallDirection::Outbound,
            status,
            provider_status: None,
            created_at: Utc::now(),
            started_at: None,
            ended_at: None,
            duration_seconds: None,
            cost: None,
        };
        let record = model::CallLog {
            core,
            project_id: None,
            status_message: None,
            call_data: serde_json::Value::Null,
            cost_in_usd_cents: rust_decimal::Decimal::ZERO,
            updated_at: None,
            related: Default::default(),
        };
        CallLog::OneUptimeCallLog(super::super::super::providers::oneuptime::OneUptimeCallLog(Arc::new(
            record,
        )))
    }

    fn feed(hub: &Hub<CallLog>, tenant: &TenantId, filter: timeline::Filter) -> Feed {
        Feed {
            replay: VecDeque::new(),
            sent: HashSet::new(),
            subscriber: hub.subscribe(tenant).unwrap(),
            filter: EventFilter::new(&filter),
            binding: Binding {
                codec: CursorCodec::new(b"test-key"),
                tenant: tenant.as_str().into(),
                filter: "{}".into(),
            },
            ended: false,
        }
    }

    fn hub(buffer: usize) -> Hub<CallLog> {
        let limits = HubLimits {
            buffer,
            max_per_tenant: 10,
            replay_window: Duration::from_secs(60),
            history: 16,
        };
        Hub::new(limits, crate::telemetry::metrics::Metrics::default().live())
    }

    fn publish(hub: &Hub<CallLog>, tenant: &TenantId, id: &str, status: CallStatus) {
        let event = Event {
            id: format!("{id}/{status:?}").into(),
            kind: EventKind::Created,
            at: Utc::now(),
            payload: log(id, status),
        };
        hub.publish(tenant, event, "test");
    }

    #[tokio::test]
    async fn a_subscriber_a_buffer_behind_gets_subscription_lagged_and_then_completes() {
        let (hub, tenant) = (hub(2), TenantId::new("t"));
        let subscription = feed(&hub, &tenant, timeline::Filter::default());
        for i in 0..5 {
            publish(&hub, &tenant, &i.to_string(), CallStatus::Placed);
        }
        let (first, subscription) = next(subscription).await.expect("an item");
        let error = first.err().expect("an error, not an event");
        assert_eq!(error.code, ErrorCode::SubscriptionLagged);
        assert!(error.message.contains("after"), "{}", error.message);
        assert!(next(subscription).await.is_none(), "the subscription completes");
    }

    #[tokio::test]
    async fn events_outside_the_filter_and_deleted_logs_are_skipped() {
        let (hub, tenant) = (hub(16), TenantId::new("t"));
        let filter = timeline::Filter {
            statuses: Some(vec![CallStatus::Failed]),
            ..Default::default()
        };
        let subscription = feed(&hub, &tenant, filter);
        publish(&hub, &tenant, "placed", CallStatus::Placed);
        publish(&hub, &tenant, "gone", CallStatus::Deleted);
        publish(&hub, &tenant, "failed", CallStatus::Failed);
        let (first, _) = next(subscription).await.expect("an item");
        let Ok(event) = first else {
            panic!("an event, not an error")
        };
        assert_eq!(event.node.core().native_id, "failed");
        assert_eq!(event.kind, CallLogEventKind::Created);
    }
}

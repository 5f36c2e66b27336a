//! The fake provider's GraphQL side (feature `fake-provider`, README "Adding a
//! provider"): `FakeCallLog`, its part of a request's scope (service and DataLoader), its
//! node source, its root connection `fakeCallLogs` (a filter, `totalCount`) and its
//! `callLogs` stream: the whole contract a real provider uses.

use std::borrow::Cow;
use std::sync::Arc;

use async_graphql::InputObject;
use async_graphql::dataloader::DataLoader;

use crate::domain::{CallLogCore, NodeKind, Provider};
use crate::graphql::call_log::{CallLog, Node, call_log_object};
use crate::graphql::connection::{CountedConnection, connection_fields, connection_names};
use crate::graphql::flat::Flat;
use crate::graphql::node::Loaded;
use crate::graphql::scope::{ProviderScope, RequestScope, scope};
use crate::graphql::timeline::CallLogs;
use crate::providers::fake::{CALL_LOG, CallLogLoader, Fake};
use crate::timeline::{Plan, TimelineStream, WindowFuture, decode_position, scan};

/// The fake's part of a request's scope: its service.
pub(crate) struct FakeScope {
    pub service: Arc<Fake>,
    pub call_logs: DataLoader<CallLogLoader>,
}

impl ProviderScope for FakeScope {
    const PROVIDER: Provider = Provider::Fake;
    type Service = Fake;
    fn service(&self) -> &Arc<Self::Service> {
        &self.service
    }
}

/// Builds the fake's part of a request scope (`providers::PARTS`).
pub(crate) fn request_part(
    tenant: &crate::tenancy::Tenant,
    budget: &Arc<crate::request::CallBudget>,
) -> Option<Box<dyn std::any::Any + Send + Sync>> {
    let service = tenant.service::<Fake>()?;
    let spawn = crate::request::spawn_in_budget(budget.clone());
    Some(Box::new(FakeScope {
        call_logs: DataLoader::new(CallLogLoader(service.clone()), spawn),
        service,
    }))
}

/// A call log of the fake provider.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct FakeCallLog(pub Arc<CallLogCore>);

impl FakeCallLog {
    fn core(&self) -> &CallLogCore {
        &self.0
    }
    fn id_native(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.0.native_id)
    }
    fn id_kind(&self) -> NodeKind {
        CALL_LOG
    }
}

call_log_object! {
    /// A call log of the fake provider (a test build's fourth provider).
    FakeCallLog {}
}

fn call_log(log: Arc<CallLogCore>) -> CallLog {
    CallLog::FakeCallLog(FakeCallLog(log))
}

/// Filter of `fakeCallLogs`, applied by the fake upstream.
#[derive(InputObject, Default)]
pub(crate) struct FakeCallLogFilter {
    /// Only logs created after this instant (exclusive).
    #[graphql(validator(custom = "crate::graphql::values::in_date_range"))]
    pub created_after: Option<crate::graphql::scalars::DateTime>,
    /// Only logs created before this instant (exclusive).
    #[graphql(validator(custom = "crate::graphql::values::in_date_range"))]
    pub created_before: Option<crate::graphql::scalars::DateTime>,
}

impl FakeCallLogFilter {
    /// The dates the fake upstream filters by.
    fn dates(&self) -> crate::providers::fake::Dates {
        (self.created_after.map(|t| t.0), self.created_before.map(|t| t.0))
    }
}

connection_names!(FakeNames, "FakeCallLogConnection", "FakeCallLogEdge");

/// The connection type of `fakeCallLogs`.
pub(crate) type FakeConnection = CountedConnection<String, Flat<FakeCallLog>, FakeNames>;

/// The fake's root query fields (merged into `Query`).
#[derive(Default)]
pub(crate) struct FakeQuery;

connection_fields! {
    impl FakeQuery {
        /// The fake provider's call logs, newest first.
        fn fake_call_logs as "fakeCallLogs"(ctx, filter: FakeCallLogFilter, page) -> FakeConnection {
            let (service, dates) = (scope(ctx)?.service::<FakeScope>()?, filter.dates());
            let read = page.read(ctx, &dates, |after, n| service.window(dates, after, n));
            Ok(read.await?.counted(|log| Flat(FakeCallLog(log)), service, move |s, _| async move { s.count(dates).await }))
        }
    }
}

/// Resolves the fake's global ids.
pub(crate) const NODES: Loaded<FakeScope, CallLogLoader> = Loaded {
    kinds: &[CALL_LOG],
    loader: |scope| &scope.call_logs,
    render: |log| Node::from(call_log(log)),
};

/// The fake's call logs in `callLogs`: its upstream applies the dates; it cannot count.
pub(crate) struct Stream;
pub(crate) const STREAM: Stream = Stream;

impl TimelineStream<CallLogs> for Stream {
    fn name(&self) -> &'static str {
        "Fake"
    }
    fn provider(&self) -> Provider {
        Provider::Fake
    }
    fn window<'a>(
        &'a self,
        scope: &'a RequestScope,
        plan: &'a Plan,
        position: &'a Option<serde_json::Value>,
        n: usize,
    ) -> WindowFuture<'a, CallLogs> {
        Box::pin(async move {
            let service = &scope.get::<FakeScope>()?.service;
            let dates = (plan.created_after, plan.created_before);
            let w = service.window(dates, decode_position(position)?, n).await?;
            Ok(scan(w.edges, w.has_next, &plan.post, |l| &**l, call_log))
        })
    }
}

//! The fake provider's GraphQL side (feature `fake-provider`, README "Adding a
//! provider"): `FakeCallLog`, its part of a request's scope, its node source and its
//! `callLogs` stream.

use std::borrow::Cow;
use std::sync::Arc;

use async_graphql::Context;

use crate::domain::{CallLogCore, GlobalId, NodeKind, Provider};
use crate::graphql::call_log::{CallLog, Node, call_log_object};
use crate::graphql::node::{NodeFuture, NodeSource};
use crate::graphql::scope::{ProviderScope, RequestScope, scope};
use crate::graphql::timeline::CallLogs;
use crate::providers::fake::{CALL_LOG, Fake};
use crate::timeline::{Plan, TimelineStream, WindowFuture, decode_position, scan};

/// The fake's part of a request's scope: its service.
pub(crate) struct FakeScope {
    pub service: Arc<Fake>,
}

impl ProviderScope for FakeScope {
    const PROVIDER: Provider = Provider::Fake;
}

/// Builds the fake's part of a request scope (`providers::PARTS`).
pub(crate) fn request_part(
    tenant: &crate::tenancy::Tenant,
    _budget: &Arc<crate::request::CallBudget>,
) -> Option<Box<dyn std::any::Any + Send + Sync>> {
    Some(Box::new(FakeScope {
        service: tenant.service::<Fake>()?,
    }))
}

/// A call log of the fake provider.
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

/// Resolves the fake's global ids.
pub(crate) struct Nodes;
pub(crate) const NODES: Nodes = Nodes;

impl NodeSource for Nodes {
    fn kinds(&self) -> &'static [NodeKind] {
        &[CALL_LOG]
    }
    fn load<'a>(&'a self, ctx: &'a Context<'_>, id: GlobalId) -> NodeFuture<'a> {
        Box::pin(async move {
            let service = &scope(ctx)?.get::<FakeScope>()?.service;
            Ok(service.call_log(&id.native_id).await?.map(|l| Node::from(call_log(l))))
        })
    }
}

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
            let after: Option<String> = decode_position(position)?;
            let dates = (plan.created_after, plan.created_before);
            let page = service.page(dates, after.as_deref(), n).await?;
            let edges = page.logs.iter().map(|l| (l.native_id.clone(), l.clone())).collect();
            Ok(scan(edges, page.has_more, &plan.post, |l| &**l, call_log))
        })
    }
}

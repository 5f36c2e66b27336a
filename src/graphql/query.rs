//! The root `Query`: lookups by global id (`node`, `nodes`, `callLog`) merged with each
//! provider's connection fields.

use async_graphql::{Context, ID, MergedObject, Object};
use futures::future::join_all;

use super::call_log::{CallLog, Node};
use super::connection::Paging;
use super::error::GatewayError;
use super::lookup::load;
use super::oneuptime::{self, OneUptimeQuery};
use super::scope::scope;
use super::signalwire::{SignalWireQuery, video_log, voice_log};
use super::timeline::TimelineQuery;
use super::voximplant::{self, VoximplantQuery};
use super::voximplant_audit::{VoximplantAuditLogEntry, VoximplantAuditQuery};
use super::voximplant_reports::VoximplantHistoryReport;
use crate::domain::{GlobalId, NodeKind};

/// The root query type.
#[derive(MergedObject, Default)]
pub struct Query(
    ByIdQuery,
    TimelineQuery,
    SignalWireQuery,
    OneUptimeQuery,
    VoximplantQuery,
    VoximplantAuditQuery,
);

#[derive(Default)]
pub struct ByIdQuery;

#[Object]
impl ByIdQuery {
    /// Fetches any object by its global id; null when it does not exist.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Node>> {
        Ok(node(ctx, &id).await?)
    }

    /// Fetches objects by global id, in the order given (null where one does not exist).
    /// At most `graphql.max_node_ids` (default 100) ids per call. Ids of one
    /// provider are batched; one provider failing only nulls its items and adds an error
    /// naming it.
    #[graphql(complexity = "crate::graphql::connection::ids_complexity(ids.len(), child_complexity)")]
    async fn nodes(&self, ctx: &Context<'_>, ids: Vec<ID>) -> async_graphql::Result<Vec<Option<Node>>> {
        check_batch_size(ctx, ids.len())?;
        let results = join_all(ids.iter().map(|id| node(ctx, id))).await;
        Ok(results
            .into_iter()
            .enumerate()
            .map(|(i, r)| partial(ctx, i, r))
            .collect())
    }

    /// Fetches a call log by its global id; null when it does not exist.
    async fn call_log(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<CallLog>> {
        Ok(call_log(ctx, decode(&id)?).await?)
    }
}

fn decode(id: &ID) -> Result<GlobalId, GatewayError> {
    GlobalId::decode(id).map_err(|e| GatewayError::bad_input(format!("invalid id {:?}: {e}", id.as_str())))
}

/// Resolves any global id through the request's loaders (and so the cache).
async fn node(ctx: &Context<'_>, id: &ID) -> Result<Option<Node>, GatewayError> {
    let id = decode(id)?;
    match id.kind {
        NodeKind::VoximplantAuditLogEntry => {
            let loader = &scope(ctx)?.voximplant()?.audit_entries;
            load(loader, id.native_id, |e| {
                Node::VoximplantAuditLogEntry(VoximplantAuditLogEntry(e))
            })
            .await
        }
        NodeKind::VoximplantHistoryReport => {
            let Ok(report_id) = id.native_id.parse::<u64>() else {
                return Ok(None);
            };
            let report = scope(ctx)?.voximplant()?.service.report(report_id).await?;
            Ok(report.map(|r| Node::VoximplantHistoryReport(VoximplantHistoryReport(r))))
        }
        _ => Ok(call_log(ctx, id).await?.map(Node::from)),
    }
}

/// Resolves the global id of a call log.
async fn call_log(ctx: &Context<'_>, id: GlobalId) -> Result<Option<CallLog>, GatewayError> {
    let scope = scope(ctx)?;
    match id.kind {
        NodeKind::SignalWireVoiceLog => load(&scope.signalwire()?.voice, id.native_id, voice_log).await,
        NodeKind::SignalWireVideoLog => load(&scope.signalwire()?.video, id.native_id, video_log).await,
        NodeKind::OneUptimeCallLog => load(&scope.oneuptime()?.call_logs, id.native_id, oneuptime::call_log).await,
        NodeKind::VoximplantCallSession => {
            load(&scope.voximplant()?.sessions, id.native_id, voximplant::call_session).await
        }
        NodeKind::VoximplantAuditLogEntry | NodeKind::VoximplantHistoryReport => {
            Err(GatewayError::bad_input("the id is not a call log's"))
        }
    }
}

/// Keeps a list item's failure as an error entry (with the item's path) and a null item,
/// not a failed list.
fn partial<T>(ctx: &Context<'_>, index: usize, result: Result<Option<T>, GatewayError>) -> Option<T> {
    result.unwrap_or_else(|e| {
        let mut error = ctx.set_error_path(async_graphql::Error::from(e).into_server_error(ctx.item.pos));
        error.path.push(async_graphql::PathSegment::Index(index));
        ctx.add_error(error);
        None
    })
}

fn check_batch_size(ctx: &Context<'_>, len: usize) -> Result<(), GatewayError> {
    let max = ctx.data::<Paging>().map(|p| p.max_node_ids).unwrap_or(100);
    if len > max {
        return Err(GatewayError::bad_input(format!(
            "`ids` may hold at most {max} ids, got {len}"
        )));
    }
    Ok(())
}

impl From<CallLog> for Node {
    fn from(c: CallLog) -> Self {
        match c {
            CallLog::SignalWireVoiceLog(v) => Node::SignalWireVoiceLog(v),
            CallLog::SignalWireVideoLog(v) => Node::SignalWireVideoLog(v),
            CallLog::DiscardedCallLog(v) => Node::DiscardedCallLog(v),
            CallLog::OneUptimeCallLog(v) => Node::OneUptimeCallLog(v),
            CallLog::VoximplantCallSession(v) => Node::VoximplantCallSession(v),
        }
    }
}

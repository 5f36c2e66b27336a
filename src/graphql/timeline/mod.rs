//! `callLogs`: the merged, newest-first timeline over every configured provider.
//!
//! Each provider collection is a stream read from its own cursor machinery (and so its
//! cache); parts of the filter a provider cannot apply are applied here with a bounded
//! scan. The cursor carries every stream's position. A failing provider does not fail the
//! query: its items are absent, `errors` names it, and the next page resumes it from where
//! it stopped (its items newer than the page already shown then arrive on that later
//! page, so there is no gap and no duplicate, but that page is not in order across the
//! recovery).

mod count;
mod filter;
mod page;
mod streams;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_graphql::{Context, Object};
use futures::future::join_all;

use super::call_log::CallLog;
use super::connection::PageArgs;
use super::error::GatewayError;
use super::scope::scope;
use crate::timeline::{StreamBatch, merge};
use count::Countable;
use filter::Plan;
use page::TimelineConnection;
use streams::{Stream, StreamState, read};

pub use filter::CallLogFilter;

/// The timeline's root field (merged into `Query`).
#[derive(Default)]
pub struct TimelineQuery;

#[Object]
impl TimelineQuery {
    /// Every configured provider's call logs as one newest-first connection: SignalWire
    /// voice and video logs (deleted ones excluded), OneUptime call logs and Voximplant
    /// sessions (within Voximplant's look-back window unless `createdAfter` is given).
    /// A provider that fails is reported in `errors` (with `provider`) and resumed on the
    /// next page; the others still answer.
    async fn call_logs(
        &self,
        ctx: &Context<'_>,
        filter: Option<CallLogFilter>,
        #[graphql(desc = "Page size, 1 to the configured maximum (default 100); 20 when omitted.")] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<TimelineConnection> {
        Ok(timeline(ctx, filter.unwrap_or_default(), first, after).await?)
    }
}

async fn timeline(
    ctx: &Context<'_>,
    filter: CallLogFilter,
    first: Option<i32>,
    after: Option<String>,
) -> Result<TimelineConnection, GatewayError> {
    let scope = scope(ctx)?;
    let args = PageArgs::<Vec<StreamState>>::parse(ctx, "callLogs", filter.canonical(), first, after.as_deref())?;
    let wanted: Vec<Stream> = match &filter.providers {
        Some(providers) => {
            let wanted: Vec<Stream> = Stream::ALL
                .into_iter()
                .filter(|s| providers.contains(&s.provider().into()))
                .collect();
            if let Some(missing) = wanted.iter().find(|s| !s.configured(scope)) {
                return Err(GatewayError::not_configured(missing.provider()));
            }
            wanted
        }
        None => Stream::ALL.into_iter().filter(|s| s.configured(scope)).collect(),
    };
    let mut states: Vec<StreamState> = match &args.after {
        Some(states) => states.clone(),
        None => wanted
            .iter()
            .map(|&stream| StreamState {
                stream,
                position: None,
                done: false,
            })
            .collect(),
    };
    let scan_bound = ctx.data::<super::Paging>().map(|p| p.scan_bound).unwrap_or(1_000);
    let plan = Plan::new(filter, scan_bound);
    let total = Countable::new(&plan, states.iter().map(|s| (s.stream, s.position.clone())).collect());
    let mut cursors: Vec<String> = Vec::new();
    let mut views: Vec<CallLog> = Vec::new();
    let need = args.first;
    let live: Vec<usize> = (0..states.len()).filter(|&i| !states[i].done).collect();
    let reads = join_all(
        live.iter()
            .map(|&i| read(scope, states[i].stream, &plan, states[i].position.clone(), need)),
    )
    .await;
    let mut batches = Vec::new();
    for (&i, result) in live.iter().zip(reads) {
        batches.push(result.unwrap_or_else(|e| {
            ctx.add_error(async_graphql::Error::from(e).into_server_error(ctx.item.pos));
            tracing::warn!(stream = ?states[i].stream, "timeline stream failed; it resumes on the next page");
            StreamBatch {
                items: Vec::new(),
                has_more: true,
                frontier: None,
                scanned_to: None,
            }
        }));
    }
    let exhausted: Vec<bool> = batches.iter().map(|b| !b.has_more && b.frontier.is_none()).collect();
    let merged = merge(batches, need);
    for (slot, view, position) in merged.items {
        states[live[slot]].position = Some(position);
        cursors.push(args.cursor(&states));
        views.push(view);
    }
    for (slot, position) in merged.positions.into_iter().enumerate() {
        if let Some(p) = position {
            states[live[slot]].position = Some(p);
        }
        // A stream whose batch ended upstream and was fully used is done.
        states[live[slot]].done |= exhausted[slot] && !merged.remaining[slot];
    }
    let cut = merged.cut;
    // The next page resumes past what cut streams scanned, also when this page is empty.
    let resume = args.cursor(&states);
    if let Some(last) = cursors.last_mut() {
        *last = resume.clone();
    }
    if let Some(notes) = ctx.data_opt::<Arc<super::ResponseNotes>>().filter(|_| cut) {
        notes.scan_cut.store(true, Ordering::Relaxed);
    }
    Ok(TimelineConnection::new(
        cursors.into_iter().zip(views),
        args.after.is_some(),
        merged.has_next,
        resume,
        cut,
        total,
    ))
}

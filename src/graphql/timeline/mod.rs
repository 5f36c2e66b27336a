//! `callLogs`: the merged, newest-first timeline over every configured provider.
//!
//! Each provider collection is a stream read from its own cursor machinery (and so its
//! cache); parts of the filter a provider cannot apply are applied here with a bounded
//! scan. The cursor carries every stream's position. A failing provider does not fail the
//! query: its items are absent, `errors` names it, and the next page resumes it from where
//! it stopped. Its items newer than the page already shown then arrive on that later page
//! (no gap, no duplicate), and the page says so in `catchingUp`, since for that provider
//! it does not continue the previous page's order.

mod count;
mod filter;
mod page;
mod position;
mod streams;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_graphql::{Context, Object};
use futures::future::join_all;

use super::connection::PageArgs;
use super::error::GatewayError;
use super::scope::{RequestScope, scope};
use crate::timeline::{StreamBatch, merge};
use count::Countable;
use page::{PageParts, TimelineConnection};
use position::TimelinePosition;
use streams::{Batch, Stream, read};

pub use filter::CallLogFilter;
pub(crate) use filter::Plan;
pub(crate) use streams::{CountFuture, TimelineStream, WindowFuture, decode as decode_position, render};

/// The timeline's root field (merged into `Query`).
#[derive(Default)]
pub struct TimelineQuery;

#[Object]
impl TimelineQuery {
    /// Every configured provider's call logs as one newest-first connection: SignalWire
    /// voice and video logs (deleted ones excluded), OneUptime call logs and Voximplant
    /// sessions (within Voximplant's look-back window unless `createdAfter` is given).
    /// A provider that fails is reported in `errors` (with `provider`) and resumed on the
    /// next page, which lists it in `catchingUp`; the others still answer.
    #[graphql(complexity = "crate::graphql::connection::page_complexity(first, child_complexity)")]
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
    let args = PageArgs::<TimelinePosition>::parse(ctx, "callLogs", filter.canonical(), first, after.as_deref())?;
    let wanted = wanted_streams(scope, &filter)?;
    let mut at = args.after.clone().unwrap_or_else(|| TimelinePosition::start(wanted));
    let previous = at.clone();
    let plan = Plan::new(filter, args.scan_bound);
    let total = Countable::new(
        &plan,
        at.streams.iter().map(|s| (s.stream, s.position.clone())).collect(),
    );
    let live: Vec<usize> = (0..at.streams.len()).filter(|&i| !at.streams[i].done).collect();
    let batches = read_streams(ctx, scope, &plan, &at, &live, args.first).await;
    let exhausted: Vec<bool> = batches.iter().map(|b| !b.has_more && b.frontier.is_none()).collect();
    let merged = merge(batches, args.first);
    let mut edges = Vec::with_capacity(merged.items.len());
    let mut catching_up = Vec::new();
    for (slot, item) in merged.items {
        let index = live[slot];
        let provider = at.streams[index].stream.provider().into();
        if previous.is_behind(&item) && !catching_up.contains(&provider) {
            catching_up.push(provider);
        }
        at.emit(index, &item);
        edges.push((args.cursor(&at), item.item));
    }
    for (slot, position) in merged.positions.into_iter().enumerate() {
        let state = &mut at.streams[live[slot]];
        if let Some(p) = position {
            state.position = Some(p);
        }
        // A stream whose batch ended upstream and was fully used is done.
        state.done |= exhausted[slot] && !merged.remaining[slot];
    }
    // The next page resumes past what cut streams scanned, also when this page is empty.
    let resume = args.cursor(&at);
    if let Some((cursor, _)) = edges.last_mut() {
        cursor.clone_from(&resume);
    }
    if let Some(notes) = ctx.data_opt::<Arc<super::ResponseNotes>>().filter(|_| merged.cut) {
        notes.scan_cut.store(true, Ordering::Relaxed);
    }
    Ok(PageParts {
        edges,
        has_previous_page: args.after.is_some(),
        has_next_page: merged.has_next,
        resume,
        scan_cut: merged.cut,
        catching_up,
        total,
    }
    .into())
}

/// The streams `filter` asks for (all configured ones by default); asking for a provider
/// the tenant has not configured is `PROVIDER_NOT_CONFIGURED`.
fn wanted_streams(scope: &RequestScope, filter: &CallLogFilter) -> Result<Vec<Stream>, GatewayError> {
    let Some(providers) = &filter.providers else {
        return Ok(Stream::all().filter(|s| s.configured(scope)).collect());
    };
    let wanted: Vec<Stream> = Stream::all()
        .filter(|s| providers.contains(&s.provider().into()))
        .collect();
    match wanted.iter().find(|s| !s.configured(scope)) {
        Some(missing) => Err(GatewayError::not_configured(missing.provider())),
        None => Ok(wanted),
    }
}

/// Reads the `live` streams ahead in parallel; a stream that fails is reported in
/// `errors` and stands still (it resumes on the next page).
async fn read_streams(
    ctx: &Context<'_>,
    scope: &RequestScope,
    plan: &Plan,
    at: &TimelinePosition,
    live: &[usize],
    first: usize,
) -> Vec<Batch> {
    let states = &at.streams;
    let reads = join_all(
        live.iter()
            .map(|&i| read(scope, states[i].stream, plan, states[i].position.clone(), first)),
    )
    .await;
    live.iter()
        .zip(reads)
        .map(|(&i, result)| {
            result.unwrap_or_else(|e| {
                ctx.add_error(ctx.set_error_path(async_graphql::Error::from(e).into_server_error(ctx.item.pos)));
                tracing::warn!(stream = ?states[i].stream, "timeline stream failed; it resumes on the next page");
                StreamBatch {
                    items: Vec::new(),
                    has_more: true,
                    frontier: None,
                    scanned_to: None,
                }
            })
        })
        .collect()
}

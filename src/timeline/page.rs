//! One page of the merged timeline: choose the streams, read the live ones ahead in
//! parallel, merge, and work out where each stream resumes.
//!
//! A failing stream does not fail the page: its items are absent, the page carries its
//! error, and the next page resumes it from where it stopped. Its items newer than the
//! page already shown then arrive on that later page (no gap, no duplicate), and the page
//! says so in `catching_up`, since for that provider it does not continue the previous
//! page's order.

use futures::future::join_all;

use super::Error;
use super::count::Countable;
use super::filter::{Filter, Plan};
use super::merge::{StreamBatch, merge};
use super::position::Position;
use super::stream::{Batch, Stream, Timeline, read};
use crate::domain::Provider;

/// What a page is asked for.
pub struct PageRequest<T: Timeline> {
    pub filter: Filter,
    /// Where the previous page ended (its cursor's position).
    pub after: Option<Position<T>>,
    pub first: usize,
    /// Items one stream may scan per page for gateway-side filters.
    pub scan_bound: usize,
}

/// One page: `(cursor, item)` edges in order, and what the connection says about it.
pub struct Page<T: Timeline, C> {
    pub edges: Vec<(C, T::Item)>,
    pub has_previous: bool,
    pub has_next: bool,
    /// The cursor the next page starts from (also when `edges` is empty).
    pub resume: C,
    /// A gateway-side filter hit its scan bound: the page may be short although more follow.
    pub cut: bool,
    /// Providers whose items on this page are newer than the previous page's last item.
    pub catching_up: Vec<Provider>,
    /// The total count, when every included stream can count.
    pub total: Option<Countable<T>>,
    /// The streams that failed (they resume on the next page), in stream order.
    pub failures: Vec<T::Error>,
    /// Every stream that still had items failed: the page made no progress, and paging on
    /// would return it again.
    pub stalled: bool,
}

/// Reads one page; `cursor` renders a position as the caller's cursor. Asking for a
/// provider the tenant has not configured is `Error::NotConfigured`.
pub async fn page<T: Timeline, C: Clone>(
    cx: &T::Cx,
    request: PageRequest<T>,
    cursor: impl Fn(&Position<T>) -> C,
) -> Result<Page<T, C>, Error> {
    let PageRequest {
        mut filter,
        after,
        first,
        scan_bound,
    } = request;
    let wanted = wanted_streams::<T>(cx, filter.providers.take())?;
    let has_previous = after.is_some();
    let mut at = after.unwrap_or_else(|| Position::start(wanted));
    let previous = at.clone();
    let plan = Plan::new(filter, scan_bound);
    let total = Countable::new(
        &plan,
        at.streams.iter().map(|s| (s.stream, s.position.clone())).collect(),
    );
    let live: Vec<usize> = (0..at.streams.len()).filter(|&i| !at.streams[i].done).collect();
    let (batches, failures, stood_still) = read_streams(cx, &plan, &at, &live, first).await;
    let stalled = !live.is_empty() && stood_still == live.len();
    let exhausted: Vec<bool> = batches.iter().map(|b| !b.has_more && b.frontier.is_none()).collect();
    let merged = merge(batches, first);
    let mut edges = Vec::with_capacity(merged.items.len());
    let mut catching_up = Vec::new();
    for (slot, item) in merged.items {
        let index = live[slot];
        let provider = at.streams[index].stream.provider();
        if previous.is_behind(&item) && !catching_up.contains(&provider) {
            catching_up.push(provider);
        }
        at.emit(index, &item);
        edges.push((cursor(&at), item.item));
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
    let resume = cursor(&at);
    if let Some((last, _)) = edges.last_mut() {
        *last = resume.clone();
    }
    Ok(Page {
        edges,
        has_previous,
        has_next: merged.has_next,
        resume,
        cut: merged.cut,
        catching_up,
        total,
        failures,
        stalled,
    })
}

/// The streams `providers` asks for (all configured ones when None).
fn wanted_streams<T: Timeline>(cx: &T::Cx, providers: Option<Vec<Provider>>) -> Result<Vec<Stream<T>>, Error> {
    let Some(providers) = providers else {
        return Ok(Stream::all().filter(|s| T::configured(cx, s.provider())).collect());
    };
    let wanted: Vec<Stream<T>> = Stream::all().filter(|s| providers.contains(&s.provider())).collect();
    match wanted.iter().find(|s| !T::configured(cx, s.provider())) {
        Some(missing) => Err(Error::NotConfigured(missing.provider())),
        None => Ok(wanted),
    }
}

/// Reads the `live` streams ahead in parallel; a stream that fails stands still (it
/// resumes on the next page) and its error is returned beside the batches, as is the
/// error of a stream that failed after some items; also how many stood still.
async fn read_streams<T: Timeline>(
    cx: &T::Cx,
    plan: &Plan,
    at: &Position<T>,
    live: &[usize],
    first: usize,
) -> (Vec<Batch<T>>, Vec<T::Error>, usize) {
    let states = &at.streams;
    let reads = join_all(
        live.iter()
            .map(|&i| read(cx, states[i].stream, plan, states[i].position.clone(), first)),
    )
    .await;
    let mut failures = Vec::new();
    let mut stood_still = 0;
    let batches = live
        .iter()
        .zip(reads)
        .map(|(&i, result)| match result {
            Ok((batch, error)) => {
                if let Some(e) = error {
                    tracing::warn!(stream = ?states[i].stream, "timeline stream failed after some items; it resumes after them");
                    failures.push(e);
                }
                batch
            }
            Err(e) => {
                tracing::warn!(stream = ?states[i].stream, "timeline stream failed; it resumes on the next page");
                failures.push(e);
                stood_still += 1;
                StreamBatch {
                    items: Vec::new(),
                    has_more: true,
                    frontier: None,
                    scanned_to: None,
                }
            }
        })
        .collect();
    (batches, failures, stood_still)
}

//! One page of the merged timeline: choose the streams, read the live ones ahead in
//! parallel, merge, and work out where each stream resumes.
//!
//! A failing stream does not fail the page: its items are absent, the page carries its
//! error, and the next page resumes it from where it stopped. Its items newer than the
//! page already shown then arrive on that later page (no gap, no duplicate), and the page
//! says so in `catching_up`, since for that provider it does not continue the previous
//! page's order.

use chrono::{DateTime, Utc};
use futures::future::join_all;

use super::Error;
use super::count::Countable;
use super::filter::{Filter, Plan};
use super::merge::{StreamBatch, StreamItem, merge};
use super::position::{Position, StreamState};
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
pub(super) fn wanted_streams<T: Timeline>(
    cx: &T::Cx,
    providers: Option<Vec<Provider>>,
) -> Result<Vec<Stream<T>>, Error> {
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
///
/// Without a gateway-side filter, each stream first reads its share of the page (plus
/// one); then, in parallel again, every stream whose last item the page could still
/// reach reads on, until no stream could (`short_of`). A page so reads about `first`
/// items plus a share per stream instead of `first` per stream. (A filtered scan reads
/// `first` per stream, within its scan bound.)
async fn read_streams<T: Timeline>(
    cx: &T::Cx,
    plan: &Plan,
    at: &Position<T>,
    live: &[usize],
    first: usize,
) -> (Vec<Batch<T>>, Vec<T::Error>, usize) {
    let states = &at.streams;
    let chunked = plan.post.is_empty();
    let share = if chunked {
        first.div_ceil(live.len().max(1)) + 1
    } else {
        first
    };
    let reads = join_all(
        live.iter()
            .map(|&i| read(cx, states[i].stream, plan, states[i].position.clone(), share)),
    )
    .await;
    let mut failures = Vec::new();
    let mut stood_still = 0;
    // Streams that failed (wholly or after some items) read no further on this page.
    let mut stopped = vec![false; live.len()];
    let mut batches = Vec::with_capacity(live.len());
    for (slot, (&i, result)) in live.iter().zip(reads).enumerate() {
        let batch = match result {
            Ok((batch, error)) => {
                if let Some(e) = error {
                    failures.push(failed_after_items(states[i].stream, e));
                    stopped[slot] = true;
                }
                batch
            }
            Err(e) => {
                tracing::warn!(stream = ?states[i].stream, "timeline stream failed; it resumes on the next page");
                failures.push(e);
                stood_still += 1;
                stopped[slot] = true;
                StreamBatch {
                    items: Vec::new(),
                    has_more: true,
                    frontier: None,
                    scanned_to: None,
                }
            }
        };
        batches.push(batch);
    }
    if chunked {
        let reads = ReadOn {
            cx,
            plan,
            states,
            live,
            first,
            share,
        };
        reads.until_full(&mut batches, &mut stopped, &mut failures).await;
    }
    (batches, failures, stood_still)
}

/// Logs that `stream` failed once some of its items were in hand, and returns the error.
fn failed_after_items<T: Timeline>(stream: Stream<T>, error: T::Error) -> T::Error {
    tracing::warn!(
        ?stream,
        "timeline stream failed after some items; it resumes after them"
    );
    error
}

/// What reading on needs: the page's streams and how much a page and a share are.
struct ReadOn<'a, T: Timeline> {
    cx: &'a T::Cx,
    plan: &'a Plan,
    states: &'a [StreamState<T>],
    live: &'a [usize],
    first: usize,
    share: usize,
}

impl<T: Timeline> ReadOn<'_, T> {
    /// Reads on, in parallel, every stream the page could still read past (`short_of`),
    /// until none is left; a stream that fails doing so stops there (it resumes on a later
    /// page). Each round reads at least `share` more of a stream or finds it ended or
    /// failed, so the rounds are bounded.
    async fn until_full(&self, batches: &mut [Batch<T>], stopped: &mut [bool], failures: &mut Vec<T::Error>) {
        for _ in 0..self.first.max(1) {
            let short = short_of::<T>(batches, stopped, self.first);
            if short.is_empty() {
                return;
            }
            let more = join_all(short.iter().map(|&(slot, want)| {
                let state = &self.states[self.live[slot]];
                let from = batches[slot]
                    .items
                    .last()
                    .map(|item| item.position.clone())
                    .or_else(|| state.position.clone());
                read(self.cx, state.stream, self.plan, from, want.max(self.share))
            }))
            .await;
            for (&(slot, _), result) in short.iter().zip(more) {
                let error = match result {
                    Ok((more, error)) => {
                        batches[slot].items.extend(more.items);
                        batches[slot].has_more = more.has_more;
                        error
                    }
                    Err(e) => Some(e),
                };
                if let Some(e) = error {
                    failures.push(failed_after_items(self.states[self.live[slot]].stream, e));
                    stopped[slot] = true;
                }
            }
        }
    }
}

/// The streams the page could read past (each with how many more items the page may
/// need from it): those with more upstream, not failed, whose last item in hand is
/// within the page's first `first` items of everything in hand. The merge never runs
/// past the end of a batch that has more unless such a stream is left.
fn short_of<T: Timeline>(batches: &[Batch<T>], stopped: &[bool], first: usize) -> Vec<(usize, usize)> {
    batches
        .iter()
        .enumerate()
        .filter(|&(slot, b)| b.has_more && !stopped[slot])
        .filter_map(|(slot, b)| {
            let reached = match b.items.last().map(order) {
                // A stream with more but nothing in hand bounds everything.
                None => 0,
                Some(last) => batches
                    .iter()
                    .map(|b| b.items.iter().take_while(|item| order(item) >= last).count())
                    .sum(),
            };
            (reached < first).then(|| (slot, first - reached))
        })
        .collect()
}

/// Where an item sorts in the merge (newest first: greater sorts earlier).
fn order<I, P>(item: &StreamItem<I, P>) -> (DateTime<Utc>, &str) {
    (item.created_at, item.key.as_str())
}

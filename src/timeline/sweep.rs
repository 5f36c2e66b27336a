//! Every matching item of one stream, for answers about all of them at once
//! (`callLogStats`): order does not matter there, so each stream is read on its own,
//! window after window from its start, without a merge or a composite cursor. The items
//! are exactly those paging the merged timeline with the same filter lists for that
//! stream (the same windows, scanned against the same `PostFilter`).
//!
//! A `ReadLimit` shared by the streams of one answer bounds how many items they scan
//! together, so an answer over a window larger than it stops as soon as it is known to
//! be (`Swept::OverLimit`), however many streams are read in parallel.

use std::sync::atomic::{AtomicU64, Ordering};

use super::Error;
use super::filter::{Filter, Plan};
use super::page::wanted_streams;
use super::position::StreamPosition;
use super::stream::{Stream, Timeline, Window};

/// Items the streams of one answer may scan together.
#[derive(Debug)]
pub struct ReadLimit {
    max: u64,
    scanned: AtomicU64,
}

impl ReadLimit {
    pub fn new(max: u64) -> Self {
        ReadLimit {
            max,
            scanned: AtomicU64::new(0),
        }
    }

    /// Counts `n` more scanned items; false once the total passes the limit.
    fn take(&self, n: u64) -> bool {
        self.scanned.fetch_add(n, Ordering::Relaxed).saturating_add(n) <= self.max
    }

    /// Items scanned so far.
    pub fn scanned(&self) -> u64 {
        self.scanned.load(Ordering::Relaxed)
    }
}

/// How reading one stream to its end went.
#[derive(Debug)]
pub enum Swept<E> {
    /// Every item was read.
    Done,
    /// The stream failed; the items before the failure were passed on.
    Failed(E),
    /// The streams together scanned more than their `ReadLimit`.
    OverLimit,
}

/// The streams `filter` reads (all configured ones, or those of `filter.providers`) and
/// the plan they read it with (`scan_bound` items per window for gateway-side filters).
pub fn streams<T: Timeline>(
    cx: &T::Cx,
    mut filter: Filter,
    scan_bound: usize,
) -> Result<(Vec<Stream<T>>, Plan), Error> {
    let wanted = wanted_streams::<T>(cx, filter.providers.take())?;
    Ok((wanted, Plan::new(filter, scan_bound)))
}

impl<T: Timeline> Stream<T> {
    /// Whether no item of the stream can match `plan` (nothing needs reading).
    pub fn excluded(self, plan: &Plan) -> bool {
        self.stream().excluded(plan)
    }

    /// Whether the stream can count its items under `plan` exactly and cheaply.
    pub fn can_count(self, plan: &Plan) -> bool {
        !self.excluded(plan) && self.stream().can_count(plan)
    }

    /// Its count under `plan` from its start (`Error::CannotCount` unless `can_count`).
    pub async fn count(self, cx: &T::Cx, plan: &Plan) -> Result<u64, T::Error> {
        if self.excluded(plan) {
            return Ok(0);
        }
        if !self.stream().can_count(plan) {
            return Err(Error::CannotCount.into());
        }
        self.stream().count(cx, plan, &None).await
    }

    /// Reads every item of the stream under `plan`, `window` at a time, handing each
    /// matching item to `each`; scanned items count against `limit`.
    pub async fn sweep(
        self,
        cx: &T::Cx,
        plan: &Plan,
        window: usize,
        limit: &ReadLimit,
        mut each: impl FnMut(T::Item),
    ) -> Swept<T::Error> {
        if self.excluded(plan) {
            return Swept::Done;
        }
        let mut position: Option<StreamPosition> = None;
        loop {
            let at = position.as_ref().map(StreamPosition::to_value);
            let Window { items, has_more, error } = match self.stream().window(cx, plan, &at, window.max(1)).await {
                Ok(w) => w,
                Err(e) => return Swept::Failed(e),
            };
            if !limit.take(items.len() as u64) {
                return Swept::OverLimit;
            }
            let read = items.len();
            for scanned in items {
                position = Some(scanned.position);
                if let Some((_, item)) = scanned.matched {
                    each(item);
                }
            }
            if let Some(e) = error {
                return Swept::Failed(e);
            }
            if !has_more {
                return Swept::Done;
            }
            if read == 0 {
                // More was promised but nothing came: reading on would not move.
                return Swept::Failed(Error::NoProgress(self.provider()).into());
            }
        }
    }
}

//! The timeline's total count: the sum of the stream counts, when every included stream
//! can count cheaply under the filter, else none.
//!
//! Each stream says whether it can count under the filter (`TimelineStream::can_count`):
//! e.g. OneUptime with one `/count` call, Voximplant with one `with_total_count` call in
//! the stream's date window; SignalWire cannot, and a filter applied in the gateway makes
//! a provider's count inexact.

use futures::future::try_join_all;

use super::filter::Plan;
use super::position::StreamPosition;
use super::stream::{Stream, Timeline};

/// What the total count needs, kept until (and unless) it is asked for.
pub struct Countable<T: Timeline> {
    plan: Plan,
    /// Every included stream with its position (Voximplant's carries its date window).
    streams: Vec<(Stream<T>, Option<StreamPosition>)>,
}

impl<T: Timeline> Countable<T> {
    /// None when some included stream cannot count exactly under `plan`.
    pub(super) fn new(plan: &Plan, streams: Vec<(Stream<T>, Option<StreamPosition>)>) -> Option<Self> {
        let countable = streams.iter().all(|(stream, _)| stream.stream().can_count(plan));
        countable.then(|| Countable {
            plan: plan.clone(),
            streams,
        })
    }

    /// The sum of the stream counts (their calls run concurrently and are cached).
    pub async fn sum(&self, cx: &T::Cx) -> Result<u64, T::Error> {
        let positions: Vec<_> = self
            .streams
            .iter()
            .map(|(_, p)| p.as_ref().map(StreamPosition::to_value))
            .collect();
        let counts = try_join_all(
            self.streams
                .iter()
                .zip(&positions)
                .map(|((stream, _), position)| stream.stream().count(cx, &self.plan, position)),
        )
        .await?;
        Ok(counts.into_iter().sum())
    }
}

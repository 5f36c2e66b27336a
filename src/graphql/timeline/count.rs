//! `totalCount` of the timeline: the sum of the provider counts, when every included
//! stream can count cheaply under the filter, else null.
//!
//! Each stream says whether it can count under the filter (`TimelineStream::can_count`):
//! e.g. OneUptime with one `/count` call, Voximplant with one `with_total_count` call in
//! the stream's date window; SignalWire cannot, and a filter applied in the gateway makes
//! a provider's count inexact.

use futures::future::try_join_all;
use serde_json::Value;

use super::filter::Plan;
use super::streams::Stream;
use crate::graphql::error::GatewayError;
use crate::graphql::scope::RequestScope;

/// What `totalCount` needs, kept until (and unless) it is selected.
pub(super) struct Countable {
    plan: Plan,
    /// Every included stream with its position (Voximplant's carries its date window).
    streams: Vec<(Stream, Option<Value>)>,
}

impl Countable {
    /// None when some included stream cannot count exactly under `plan`.
    pub(super) fn new(plan: &Plan, streams: Vec<(Stream, Option<Value>)>) -> Option<Self> {
        let countable = streams.iter().all(|(stream, _)| stream.can_count(plan));
        countable.then(|| Countable {
            plan: plan.clone(),
            streams,
        })
    }

    /// `totalCount`: the sum when countable, else None.
    pub(super) async fn total(this: Option<&Self>, scope: &RequestScope) -> Result<Option<i64>, GatewayError> {
        match this {
            Some(countable) => Ok(Some(countable.sum(scope).await?.try_into().unwrap_or(i64::MAX))),
            None => Ok(None),
        }
    }

    /// The sum of the provider counts (their calls run concurrently and are cached).
    pub(super) async fn sum(&self, scope: &RequestScope) -> Result<u64, GatewayError> {
        let counts = try_join_all(
            self.streams
                .iter()
                .map(|(stream, position)| stream.count(scope, &self.plan, position)),
        )
        .await?;
        Ok(counts.into_iter().sum())
    }
}

//! `totalCount` of the timeline: the sum of the provider counts, when every included
//! stream can count cheaply under the filter, else null.
//!
//! OneUptime counts with one `/count` call (statuses applied upstream) and Voximplant with
//! one `with_total_count` GetCallHistory call in the stream's date window; SignalWire has
//! no count, and a filter applied in the gateway makes a provider count inexact.

use futures::future::try_join_all;
use serde_json::Value;

use super::filter::Plan;
use super::streams::{Stream, decode};
use crate::graphql::error::GatewayError;
use crate::graphql::oneuptime::OneUptimeScope;
use crate::graphql::scope::RequestScope;
use crate::graphql::voximplant::VoximplantScope;
use crate::providers::voximplant::paging::Position as VoximplantPosition;

/// What `totalCount` needs, kept until (and unless) it is selected.
pub(super) struct Countable {
    plan: Plan,
    /// Every included stream with its position (Voximplant's carries its date window).
    streams: Vec<(Stream, Option<Value>)>,
}

impl Countable {
    /// None when some included stream cannot count exactly under `plan`.
    pub(super) fn new(plan: &Plan, streams: Vec<(Stream, Option<Value>)>) -> Option<Self> {
        let countable = streams.iter().all(|(stream, _)| match stream {
            Stream::SignalWireVoice | Stream::SignalWireVideo => false,
            Stream::OneUptime => plan.oneuptime_exact(),
            Stream::Voximplant => plan.post.is_empty(),
        });
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
                .map(|(stream, position)| self.count(scope, *stream, position)),
        )
        .await?;
        Ok(counts.into_iter().sum())
    }

    async fn count(&self, scope: &RequestScope, stream: Stream, position: &Option<Value>) -> Result<u64, GatewayError> {
        match stream {
            Stream::OneUptime if self.plan.oneuptime_empty() => Ok(0),
            Stream::OneUptime => Ok(scope
                .get::<OneUptimeScope>()?
                .service
                .count(&self.plan.oneuptime())
                .await?),
            Stream::Voximplant => {
                let service = &scope.get::<VoximplantScope>()?.service;
                let filter = self.plan.voximplant();
                let cursor = decode::<VoximplantPosition>(position)?;
                let window = service.window_of(&filter, cursor.as_ref()).await;
                Ok(service.count(&filter, window).await?)
            }
            Stream::SignalWireVoice | Stream::SignalWireVideo => {
                Err(GatewayError::internal("SignalWire streams are never counted"))
            }
        }
    }
}

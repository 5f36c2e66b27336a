//! The timeline's streams: one per provider collection, registered by each provider's
//! GraphQL module (`TimelineStream`, `STREAMS`) and read through that provider's own
//! cursor machinery (and so its cache), with the gateway-side filter applied under a
//! bounded scan.

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::filter::{Plan, PostFilter};
use crate::domain::{self, CallLogCore};
use crate::graphql::call_log::CallLog;
use crate::graphql::error::GatewayError;
use crate::graphql::scope::RequestScope;
use crate::timeline::{StreamBatch, StreamItem};

/// What `TimelineStream::window` returns.
pub(crate) type WindowFuture<'a> = BoxFuture<'a, Result<Rendered, GatewayError>>;
/// What `TimelineStream::count` returns.
pub(crate) type CountFuture<'a> = BoxFuture<'a, Result<u64, GatewayError>>;

/// A provider collection the timeline reads: each provider's GraphQL module implements
/// it and registers it in `STREAMS`; the engine names no provider.
pub(crate) trait TimelineStream: Sync {
    /// The stream's name in cursors (stable across releases).
    fn name(&self) -> &'static str;
    fn provider(&self) -> domain::Provider;
    /// Up to `n` items from `position`, scanned against `plan.post`, and whether more
    /// follow. The stream applies upstream what its provider can of `plan`.
    fn window<'a>(
        &'a self,
        scope: &'a RequestScope,
        plan: &'a Plan,
        position: &'a Option<Value>,
        n: usize,
    ) -> WindowFuture<'a>;
    /// True when no item of the stream can match `plan` (nothing is read).
    fn excluded(&self, _plan: &Plan) -> bool {
        false
    }
    /// Whether the stream can count its items under `plan` exactly and cheaply.
    fn can_count(&self, _plan: &Plan) -> bool {
        false
    }
    /// Its count under `plan` from `position` (asked only when `can_count`).
    fn count<'a>(&'a self, _scope: &'a RequestScope, _plan: &'a Plan, _position: &'a Option<Value>) -> CountFuture<'a> {
        Box::pin(async { Err(GatewayError::internal("this timeline stream cannot count")) })
    }
}

/// Every stream, in a fixed order (the merge's tie order and the cursor's).
const STREAMS: [&dyn TimelineStream; 4] = [
    &crate::graphql::signalwire::VOICE_STREAM,
    &crate::graphql::signalwire::VIDEO_STREAM,
    &crate::graphql::oneuptime::STREAM,
    &crate::graphql::voximplant::STREAM,
];

/// A registered stream; in cursors, its name.
#[derive(Clone, Copy)]
pub(super) struct Stream(&'static dyn TimelineStream);

impl Stream {
    pub(super) fn all() -> impl Iterator<Item = Stream> {
        STREAMS.into_iter().map(Stream)
    }

    pub(super) fn provider(self) -> domain::Provider {
        self.0.provider()
    }

    /// Whether the request's tenant has the stream's provider configured.
    pub(super) fn configured(self, scope: &RequestScope) -> bool {
        let provider = self.0.provider();
        scope.tenant.services().iter().any(|s| s.provider() == provider)
    }

    pub(super) fn can_count(self, plan: &Plan) -> bool {
        self.0.can_count(plan)
    }

    pub(super) async fn count(
        self,
        scope: &RequestScope,
        plan: &Plan,
        position: &Option<Value>,
    ) -> Result<u64, GatewayError> {
        self.0.count(scope, plan, position).await
    }
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.name())
    }
}

impl PartialEq for Stream {
    fn eq(&self, other: &Self) -> bool {
        self.0.name() == other.0.name()
    }
}

impl Serialize for Stream {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.name())
    }
}

impl<'de> Deserialize<'de> for Stream {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Stream::all()
            .find(|s| s.0.name() == name)
            .ok_or_else(|| serde::de::Error::custom("unknown timeline stream"))
    }
}

pub(crate) fn decode<P: DeserializeOwned>(position: &Option<Value>) -> Result<Option<P>, GatewayError> {
    position
        .clone()
        .map(serde_json::from_value)
        .transpose()
        .map_err(|_| GatewayError::bad_input("invalid cursor: a provider position does not decode"))
}

fn encode<P: Serialize>(position: &P) -> Value {
    serde_json::to_value(position).unwrap_or(Value::Null)
}

pub(super) type Batch = StreamBatch<CallLog, Value>;

/// One scanned item: its stream position, its creation time, and its merge key and view
/// when it passes the gateway-side filter.
pub(crate) struct Scanned {
    position: Value,
    created_at: DateTime<Utc>,
    matched: Option<(String, CallLog)>,
}

/// One provider window, scanned, and whether more follow.
pub(crate) type Rendered = (Vec<Scanned>, bool);

/// Scans one provider window's `(position, log)` edges against the gateway-side filter;
/// only items that pass are rendered (and nothing of a log is copied to check it).
pub(crate) fn render<P: Serialize, L>(
    edges: Vec<(P, L)>,
    has_next: bool,
    post: &PostFilter,
    core: impl Fn(&L) -> &CallLogCore,
    view: impl Fn(L) -> CallLog,
) -> Rendered {
    let items = edges
        .into_iter()
        .map(|(p, l)| {
            let c = core(&l);
            let created_at = c.created_at;
            let key = post
                .matches(c)
                .then(|| format!("{}:{}", c.provider.as_str(), c.native_id));
            Scanned {
                position: encode(&p),
                created_at,
                matched: key.map(|k| (k, view(l))),
            }
        })
        .collect();
    (items, has_next)
}

/// Reads up to `n` matching items of one stream from `position`, scanning at most
/// `plan.scan_bound` items when the gateway filters.
pub(super) async fn read(
    scope: &RequestScope,
    stream: Stream,
    plan: &Plan,
    mut position: Option<Value>,
    n: usize,
) -> Result<Batch, GatewayError> {
    if stream.0.excluded(plan) {
        return Ok(StreamBatch {
            items: Vec::new(),
            has_more: false,
            frontier: None,
            scanned_to: None,
        });
    }
    let mut items = Vec::new();
    let mut scanned = 0;
    loop {
        // A filtered scan never reads past its per-page budget.
        let take = if plan.post.is_empty() {
            n
        } else {
            n.min(plan.scan_bound - scanned)
        };
        let (window, has_more) = stream.0.window(scope, plan, &position, take).await?;
        let mut oldest = None;
        let last = window.len();
        for (i, seen) in window.into_iter().enumerate() {
            scanned += 1;
            oldest = Some(seen.created_at);
            // Where the scan stands: only the window's last position is kept.
            if i + 1 == last {
                position = Some(seen.position.clone());
            }
            if let Some((key, view)) = seen.matched {
                items.push(StreamItem {
                    created_at: seen.created_at,
                    key,
                    position: seen.position,
                    item: view,
                });
            }
        }
        if items.len() >= n || !has_more {
            return Ok(StreamBatch {
                items,
                has_more,
                frontier: None,
                scanned_to: None,
            });
        }
        if plan.post.is_empty() || scanned >= plan.scan_bound {
            return Ok(StreamBatch {
                items,
                has_more,
                frontier: oldest.filter(|_| !plan.post.is_empty()),
                scanned_to: position,
            });
        }
    }
}

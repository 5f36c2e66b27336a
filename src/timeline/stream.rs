//! The timeline's streams: a `Timeline` names what it is over (the context its streams
//! read with, the item they yield, their error) and its registered streams; each
//! `TimelineStream` is one provider collection, read through that provider's own cursor
//! machinery (and so its cache), with the gateway-side filter applied under a bounded scan.

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Error;
use super::filter::{Plan, PostFilter};
use super::merge::{StreamBatch, StreamItem};
use super::position::StreamPosition;
use crate::domain::{CallLogCore, Provider};

/// What a merged timeline is made of. Implemented once, by a marker type of the layer
/// that renders it (the GraphQL `callLogs`).
pub trait Timeline: Sized + Copy + std::fmt::Debug + Send + Sync + 'static {
    /// What streams read with (a request's scope: its tenant, services and loaders).
    type Cx: Sync;
    /// What a stream yields per matching log (its rendered view).
    type Item: Send;
    /// What a stream fails with.
    type Error: From<Error> + Send;
    /// Every stream, in a fixed order (the merge's tie order and the cursor's).
    fn streams() -> &'static [&'static dyn TimelineStream<Self>];
    /// Whether the context's tenant has `provider` configured.
    fn configured(cx: &Self::Cx, provider: Provider) -> bool;
}

/// What `TimelineStream::window` returns.
pub type WindowFuture<'a, T> =
    BoxFuture<'a, Result<Window<<T as Timeline>::Item, <T as Timeline>::Error>, <T as Timeline>::Error>>;
/// What `TimelineStream::count` returns.
pub type CountFuture<'a, T> = BoxFuture<'a, Result<u64, <T as Timeline>::Error>>;

/// A provider collection the timeline reads; the engine names no provider.
pub trait TimelineStream<T: Timeline>: Sync {
    /// The stream's name in cursors (stable across releases).
    fn name(&self) -> &'static str;
    fn provider(&self) -> Provider;
    /// Up to `n` items from `position`, scanned against `plan.post` (see `scan`), and
    /// whether more follow. The stream applies upstream what its provider can of `plan`.
    fn window<'a>(
        &'a self,
        cx: &'a T::Cx,
        plan: &'a Plan,
        position: &'a Option<Value>,
        n: usize,
    ) -> WindowFuture<'a, T>;
    /// True when no item of the stream can match `plan` (nothing is read).
    fn excluded(&self, _plan: &Plan) -> bool {
        false
    }
    /// Whether the stream can count its items under `plan` exactly and cheaply.
    fn can_count(&self, _plan: &Plan) -> bool {
        false
    }
    /// Its count under `plan` from `position` (asked only when `can_count`).
    fn count<'a>(&'a self, _cx: &'a T::Cx, _plan: &'a Plan, _position: &'a Option<Value>) -> CountFuture<'a, T> {
        Box::pin(async { Err(Error::CannotCount.into()) })
    }
}

/// A registered stream; in cursors, its name.
pub struct Stream<T: Timeline>(&'static dyn TimelineStream<T>);

impl<T: Timeline> Clone for Stream<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Timeline> Copy for Stream<T> {}

impl<T: Timeline> Stream<T> {
    pub fn all() -> impl Iterator<Item = Stream<T>> {
        T::streams().iter().map(|s| Stream(*s))
    }

    pub fn provider(self) -> Provider {
        self.0.provider()
    }

    pub(super) fn stream(self) -> &'static dyn TimelineStream<T> {
        self.0
    }
}

impl<T: Timeline> std::fmt::Debug for Stream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.name())
    }
}

impl<T: Timeline> PartialEq for Stream<T> {
    fn eq(&self, other: &Self) -> bool {
        self.0.name() == other.0.name()
    }
}

impl<T: Timeline> Serialize for Stream<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.name())
    }
}

impl<'de, T: Timeline> Deserialize<'de> for Stream<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Stream::all()
            .find(|s| s.0.name() == name)
            .ok_or_else(|| serde::de::Error::custom("unknown timeline stream"))
    }
}

/// A stream position as its provider's cursor type; a position that does not decode is
/// `Error::BadPosition`.
pub fn decode_position<P: DeserializeOwned>(position: &Option<Value>) -> Result<Option<P>, Error> {
    position
        .clone()
        .map(serde_json::from_value)
        .transpose()
        .map_err(|_| Error::BadPosition)
}

/// One scanned item: its stream position, its creation time, and its merge key and view
/// when it passes the gateway-side filter.
pub struct Scanned<I> {
    pub(super) position: StreamPosition,
    created_at: DateTime<Utc>,
    pub(super) matched: Option<(String, I)>,
}

/// One provider window, scanned: its items, whether more follow, and the error of a later
/// page that failed once these items were in hand (they still count; the stream stops
/// there for this page and resumes after them).
pub struct Window<I, E> {
    pub(super) items: Vec<Scanned<I>>,
    pub(super) has_more: bool,
    pub(super) error: Option<E>,
}

impl<I, E> Window<I, E> {
    /// The window with the error its provider reported beside its items.
    pub fn with_error(self, error: Option<impl Into<E>>) -> Self {
        Window {
            error: error.map(Into::into),
            ..self
        }
    }
}

/// Scans one provider window's `(position, log)` edges against the gateway-side filter;
/// only items that pass are rendered with `view` (nothing of a log is copied to check it).
pub fn scan<P: Serialize + Send + Sync + 'static, L, I, E>(
    edges: Vec<(P, L)>,
    has_next: bool,
    post: &PostFilter,
    core: impl Fn(&L) -> &CallLogCore,
    view: impl Fn(L) -> I,
) -> Window<I, E> {
    let items = edges
        .into_iter()
        .map(|(p, l)| {
            let c = core(&l);
            let created_at = c.created_at;
            let key = post
                .matches(c)
                .then(|| format!("{}:{}", c.provider.as_str(), c.native_id));
            Scanned {
                position: StreamPosition::typed(p),
                created_at,
                matched: key.map(|k| (k, view(l))),
            }
        })
        .collect();
    Window {
        items,
        has_more: has_next,
        error: None,
    }
}

/// What one stream read ahead for a page.
pub(super) type Batch<T> = StreamBatch<<T as Timeline>::Item, StreamPosition>;

/// Reads up to `n` matching items of one stream from `position`, scanning at most
/// `plan.scan_bound` items when the gateway filters. Beside the batch: the error of a page
/// that failed after some items were in hand.
pub(super) async fn read<T: Timeline>(
    cx: &T::Cx,
    stream: Stream<T>,
    plan: &Plan,
    mut position: Option<StreamPosition>,
    n: usize,
) -> Result<(Batch<T>, Option<T::Error>), T::Error> {
    if stream.0.excluded(plan) {
        let nothing = StreamBatch {
            items: Vec::new(),
            has_more: false,
            frontier: None,
            scanned_to: None,
        };
        return Ok((nothing, None));
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
        let Window {
            items: window,
            has_more,
            error,
        } = stream
            .0
            .window(cx, plan, &position.as_ref().map(StreamPosition::to_value), take)
            .await?;
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
            let batch = StreamBatch {
                items,
                has_more,
                frontier: None,
                scanned_to: None,
            };
            return Ok((batch, error));
        }
        if plan.post.is_empty() || scanned >= plan.scan_bound || error.is_some() {
            let batch = StreamBatch {
                items,
                has_more,
                frontier: oldest.filter(|_| !plan.post.is_empty()),
                scanned_to: position,
            };
            return Ok((batch, error));
        }
    }
}

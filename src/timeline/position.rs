//! The composite cursor of the timeline: every stream's own position and the last
//! (createdAt, id) the timeline emitted.
//!
//! The last emitted item is what tells a recovered provider's late items apart: after a
//! provider failed and resumed, its items newer than that point are on the page although
//! the timeline had already moved past them, and the page says so (`catching_up`).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::merge::StreamItem;
use super::stream::{Stream, Timeline};

/// One stream's state in the composite cursor.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound = "")]
pub(super) struct StreamState<T: Timeline> {
    #[serde(rename = "s")]
    pub(super) stream: Stream<T>,
    /// The provider cursor's position.
    #[serde(rename = "p")]
    pub(super) position: Option<StreamPosition>,
    /// The stream has nothing more.
    #[serde(rename = "d")]
    pub(super) done: bool,
}

/// Where the timeline stands after an edge (what a cursor carries).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Position<T: Timeline> {
    #[serde(rename = "s")]
    pub(super) streams: Vec<StreamState<T>>,
    /// The last emitted item's (createdAt, merge key).
    #[serde(rename = "l")]
    pub(super) last: Option<(DateTime<Utc>, String)>,
}

impl<T: Timeline> Position<T> {
    /// The start of the timeline over `streams`.
    pub(super) fn start(streams: impl IntoIterator<Item = Stream<T>>) -> Self {
        Position {
            streams: streams
                .into_iter()
                .map(|stream| StreamState {
                    stream,
                    position: None,
                    done: false,
                })
                .collect(),
            last: None,
        }
    }

    /// Whether `item` is newer than the last emitted one, i.e. the timeline had already
    /// moved past it (a recovered provider catching up). Items of the same instant are
    /// not: a stream orders them as its provider does (OneUptime by microseconds it
    /// prints as milliseconds), which need not be the merge key's order.
    pub(super) fn is_behind<I, P>(&self, item: &StreamItem<I, P>) -> bool {
        self.last.as_ref().is_some_and(|(at, _)| item.created_at > *at)
    }

    /// When the last emitted item was created (what a subscription resuming from this
    /// position has seen up to).
    pub fn last_emitted_at(&self) -> Option<DateTime<Utc>> {
        self.last.as_ref().map(|(at, _)| *at)
    }

    /// Moves past `item`, emitted from stream `index`.
    pub(super) fn emit<I>(&mut self, index: usize, item: &StreamItem<I, StreamPosition>) {
        self.streams[index].position = Some(item.position.clone());
        self.last = Some((item.created_at, item.key.clone()));
    }
}

/// One stream's position: as a cursor carried it (JSON), or as its provider produced it
/// (typed, and turned into JSON only when a cursor or the next window needs it). A page
/// scans every stream ahead but emits only some of what it scanned, so most positions are
/// never encoded. Cloning one is a reference count.
#[derive(Clone)]
pub(super) struct StreamPosition(Arc<dyn Encode>);

/// A position that can be written into a cursor.
trait Encode: Send + Sync {
    fn encode(&self) -> Value;
}

/// A provider's own position.
struct Typed<P>(P);

impl<P: Serialize + Send + Sync> Encode for Typed<P> {
    fn encode(&self) -> Value {
        serde_json::to_value(&self.0).unwrap_or(Value::Null)
    }
}

/// A position as a cursor carried it.
struct Json(Value);

impl Encode for Json {
    fn encode(&self) -> Value {
        self.0.clone()
    }
}

impl StreamPosition {
    /// A provider's own position, encoded only when needed.
    pub(super) fn typed<P: Serialize + Send + Sync + 'static>(position: P) -> Self {
        StreamPosition(Arc::new(Typed(position)))
    }

    /// The position in its provider's serialized form (what its stream decodes).
    pub(super) fn to_value(&self) -> Value {
        self.0.encode()
    }
}

impl From<Value> for StreamPosition {
    fn from(value: Value) -> Self {
        StreamPosition(Arc::new(Json(value)))
    }
}

impl std::fmt::Debug for StreamPosition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.to_value())
    }
}

impl Serialize for StreamPosition {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.encode().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for StreamPosition {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(StreamPosition::from)
    }
}

//! The composite cursor of the timeline: every stream's own position and the last
//! (createdAt, id) the timeline emitted.
//!
//! The last emitted item is what tells a recovered provider's late items apart: after a
//! provider failed and resumed, its items newer than that point are on the page although
//! the timeline had already moved past them, and the page says so (`catching_up`).

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
    /// The provider cursor's position (its own serialized form).
    #[serde(rename = "p")]
    pub(super) position: Option<Value>,
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

    /// Whether `item` sorts before the last emitted one, i.e. the timeline had already
    /// moved past it (a recovered provider catching up).
    pub(super) fn is_behind<I, P>(&self, item: &StreamItem<I, P>) -> bool {
        self.last
            .as_ref()
            .is_some_and(|(at, key)| (item.created_at, item.key.as_str()) > (*at, key.as_str()))
    }

    /// Moves past `item`, emitted from stream `index`.
    pub(super) fn emit<I>(&mut self, index: usize, item: &StreamItem<I, Value>) {
        self.streams[index].position = Some(item.position.clone());
        self.last = Some((item.created_at, item.key.clone()));
    }
}

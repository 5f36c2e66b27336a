//! The `CallLogConnection` type: the timeline's Relay connection and its extra fields.

use async_graphql::Object;
use async_graphql::connection::{Connection, EmptyFields};

use crate::graphql::call_log::CallLog;
use crate::graphql::connection::connection_names;

/// Whether the timeline's scan was cut; also reported as the `timelineScanCut` extension.
pub struct TimelineInfo {
    scan_cut: bool,
}

impl TimelineInfo {
    pub(super) fn new(scan_cut: bool) -> Self {
        TimelineInfo { scan_cut }
    }
}

#[Object]
impl TimelineInfo {
    /// True when a filter applied in the gateway hit its scan bound on this page: the page
    /// may hold fewer than `first` items although more follow (`hasNextPage` is true).
    async fn scan_cut(&self) -> bool {
        self.scan_cut
    }
    /// Always null: SignalWire cannot count cheaply, and filters applied in the gateway
    /// make provider counts inexact, so the timeline does not pretend to know.
    async fn total_count(&self) -> Option<i64> {
        None
    }
}

connection_names!(TimelineNames, "CallLogConnection", "CallLogEdge");

pub type TimelineConnection = Connection<String, CallLog, TimelineInfo, EmptyFields, TimelineNames, TimelineNames>;

//! The `CallLogConnection` type: the timeline's Relay connection and its extra fields.
//!
//! Hand-written rather than async-graphql's `Connection` for one reason: a page cut by the
//! scan bound may hold no edge at all, yet the client must be able to page on from where
//! the scan stopped, so `endCursor` is the resume position even then.

use async_graphql::Object;
use async_graphql::connection::{Edge, EmptyFields, PageInfo};

use crate::graphql::call_log::CallLog;
use crate::graphql::connection::connection_names;

connection_names!(TimelineNames, "CallLogConnection", "CallLogEdge");

type TimelineEdge = Edge<String, CallLog, EmptyFields, TimelineNames>;

/// One page of the merged timeline.
pub struct TimelineConnection {
    edges: Vec<TimelineEdge>,
    has_previous_page: bool,
    has_next_page: bool,
    /// Where the next page starts; the last edge's cursor when there is one.
    resume: Option<String>,
    scan_cut: bool,
}

impl TimelineConnection {
    /// A page of `(cursor, log)` edges; `resume` is the cursor the next page starts from
    /// (only kept when there is a next page).
    pub(super) fn new(
        edges: impl IntoIterator<Item = (String, CallLog)>,
        has_previous_page: bool,
        has_next_page: bool,
        resume: String,
        scan_cut: bool,
    ) -> Self {
        TimelineConnection {
            edges: edges.into_iter().map(|(c, v)| Edge::new(c, v)).collect(),
            has_previous_page,
            has_next_page,
            resume: has_next_page.then_some(resume),
            scan_cut,
        }
    }
}

#[Object(name = "CallLogConnection")]
impl TimelineConnection {
    /// Information to aid in pagination. On a page cut by the scan bound `endCursor` is
    /// where the scan stopped, even when `edges` is empty, so paging on continues the scan.
    async fn page_info(&self) -> PageInfo {
        PageInfo {
            has_previous_page: self.has_previous_page,
            has_next_page: self.has_next_page,
            start_cursor: self.edges.first().map(|e| e.cursor.clone()),
            end_cursor: self
                .resume
                .clone()
                .or_else(|| self.edges.last().map(|e| e.cursor.clone())),
        }
    }

    /// A list of edges.
    async fn edges(&self) -> &[TimelineEdge] {
        &self.edges
    }

    /// A list of nodes.
    async fn nodes(&self) -> Vec<&CallLog> {
        self.edges.iter().map(|e| &e.node).collect()
    }

    /// True when a filter applied in the gateway hit its scan bound on this page: the page
    /// may hold fewer than `first` items (even none) although more follow (`hasNextPage`
    /// is true, and `endCursor` resumes the scan).
    async fn scan_cut(&self) -> bool {
        self.scan_cut
    }

    /// Always null: SignalWire cannot count cheaply, and filters applied in the gateway
    /// make provider counts inexact, so the timeline does not pretend to know.
    async fn total_count(&self) -> Option<i64> {
        None
    }
}

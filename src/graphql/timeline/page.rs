//! The `CallLogConnection` type: the timeline's Relay connection and its extra fields.
//!
//! Hand-written rather than async-graphql's `Connection` for one reason: a page cut by the
//! scan bound may hold no edge at all, yet the client must be able to page on from where
//! the scan stopped, so `endCursor` is the resume position even then.

use async_graphql::connection::{Edge, EmptyFields, PageInfo};
use async_graphql::{Context, Object};

use super::count::Countable;
use crate::graphql::call_log::CallLog;
use crate::graphql::connection::connection_names;
use crate::graphql::scope::scope;

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
    total: Option<Countable>,
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
        total: Option<Countable>,
    ) -> Self {
        TimelineConnection {
            edges: edges.into_iter().map(|(c, v)| Edge::new(c, v)).collect(),
            has_previous_page,
            has_next_page,
            resume: has_next_page.then_some(resume),
            scan_cut,
            total,
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

    /// The number of call logs matching the filter across the included providers, when
    /// every one of them can count cheaply: OneUptime (one `/count` call) and Voximplant
    /// (one counted GetCallHistory in the session window). Null when SignalWire is
    /// included (it cannot count) or when `directions` or `number` (or, with Voximplant,
    /// `statuses`) are applied in the gateway, since provider counts would then be wrong.
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<i64>> {
        Ok(Countable::total(self.total.as_ref(), scope(ctx)?).await?)
    }
}

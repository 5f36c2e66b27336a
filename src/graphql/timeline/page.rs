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
use crate::graphql::values::Provider;

connection_names!(TimelineNames, "CallLogConnection", "CallLogEdge");

type TimelineEdge = Edge<String, CallLog, EmptyFields, TimelineNames>;

/// What one page of the merged timeline is made of.
pub(super) struct PageParts {
    /// `(cursor, log)` in order.
    pub(super) edges: Vec<(String, CallLog)>,
    pub(super) has_previous_page: bool,
    pub(super) has_next_page: bool,
    /// The cursor the next page starts from (kept only when there is a next page).
    pub(super) resume: String,
    pub(super) scan_cut: bool,
    /// Providers whose items on this page are newer than the previous page's last item.
    pub(super) catching_up: Vec<Provider>,
    pub(super) total: Option<Countable>,
}

/// One page of the merged timeline.
pub struct TimelineConnection {
    edges: Vec<TimelineEdge>,
    has_previous_page: bool,
    has_next_page: bool,
    /// Where the next page starts; the last edge's cursor when there is one.
    resume: Option<String>,
    scan_cut: bool,
    catching_up: Vec<Provider>,
    total: Option<Countable>,
}

impl From<PageParts> for TimelineConnection {
    fn from(parts: PageParts) -> Self {
        TimelineConnection {
            edges: parts.edges.into_iter().map(|(c, v)| Edge::new(c, v)).collect(),
            has_previous_page: parts.has_previous_page,
            has_next_page: parts.has_next_page,
            resume: parts.has_next_page.then_some(parts.resume),
            scan_cut: parts.scan_cut,
            catching_up: parts.catching_up,
            total: parts.total,
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

    /// Providers that failed on an earlier page and were resumed from where they stopped:
    /// their items on this page are newer than the previous page's last item (they were
    /// missing then), so this page does not continue the previous one's order for them.
    /// Empty on every page without such late items; nothing is skipped or repeated.
    async fn catching_up(&self) -> &[Provider] {
        &self.catching_up
    }

    /// The number of call logs matching the filter across the included providers, when
    /// every one of them can count cheaply: OneUptime (one `/count` call) and Voximplant
    /// (one counted GetCallHistory in the session window). Null when SignalWire is
    /// included (it cannot count) or when `directions` or `number` (or, with Voximplant,
    /// `statuses`) are applied in the gateway, since provider counts would then be wrong.
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<i32>> {
        let total = Countable::total(self.total.as_ref(), scope(ctx)?).await?;
        Ok(crate::graphql::values::opt_int32(total)?)
    }
}

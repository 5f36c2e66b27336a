//! `Window`: what every provider's paging hands the GraphQL layer for one connection
//! page. One type for all of them, so the connection helper (`graphql::connection`) is
//! written once: positioned items in order, whether more follow, and the one error met
//! after items were in hand (reported beside them, never instead of them).

use std::sync::Arc;

use crate::upstream::UpstreamError;

/// One connection page: items after a position `P`, newest first.
#[derive(Debug)]
pub struct Window<P, T> {
    pub edges: Vec<(P, Arc<T>)>,
    pub has_next: bool,
    /// A failure the window passed once `edges` were in hand (an unreadable record
    /// skipped, or a later page that failed): reported beside the edges.
    pub error: Option<UpstreamError>,
}

impl<P, T> Window<P, T> {
    /// A window with nothing in it and nothing after it.
    pub fn empty() -> Self {
        Window {
            edges: Vec::new(),
            has_next: false,
            error: None,
        }
    }
}

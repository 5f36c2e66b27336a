//! The timeline's filter and how it splits: the dates every provider applies upstream,
//! and what the gateway checks itself (`PostFilter`) within a scan bound per page.
//!
//! Cursors are bound to the filter's serialized form (`graphql::connection::
//! canonical_filter`), so a cursor reused with another filter is refused.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::{CallDirection, CallLogCore, CallStatus, Provider};

/// A timeline filter in domain values (the GraphQL input converts into it); cursors are
/// bound to its serialized form.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Filter {
    /// Created after this instant (exclusive).
    pub created_after: Option<DateTime<Utc>>,
    /// Created before this instant (exclusive).
    pub created_before: Option<DateTime<Utc>>,
    /// Only these providers (None: every configured one).
    pub providers: Option<Vec<Provider>>,
    pub directions: Option<Vec<CallDirection>>,
    pub statuses: Option<Vec<CallStatus>>,
    /// Calls whose `from` or `to` equals this number.
    pub number: Option<String>,
}

/// What the gateway checks itself (a stream whose provider applies part of it upstream,
/// such as OneUptime's statuses, passes only matching items anyway).
#[derive(Debug, Clone, Default)]
pub struct PostFilter {
    directions: Option<Vec<CallDirection>>,
    pub statuses: Option<Vec<CallStatus>>,
    number: Option<String>,
}

impl PostFilter {
    pub fn is_empty(&self) -> bool {
        self.directions.is_none() && self.statuses.is_none() && self.number.is_none()
    }

    /// Whether only statuses are checked here (a provider may apply those upstream).
    pub fn only_statuses(&self) -> bool {
        self.directions.is_none() && self.number.is_none()
    }

    pub fn matches(&self, core: &CallLogCore) -> bool {
        self.directions.as_ref().is_none_or(|d| d.contains(&core.direction))
            && self.statuses.as_ref().is_none_or(|s| s.contains(&core.status))
            && self
                .number
                .as_ref()
                .is_none_or(|n| core.from.as_deref() == Some(n.as_str()) || core.to.as_deref() == Some(n.as_str()))
    }
}

/// The filter as streams read it: the dates every provider applies upstream, and what
/// the gateway checks (`post`), within a scan bound per page.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Items one stream may scan per page for `post`.
    pub scan_bound: usize,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    pub post: PostFilter,
}

impl Plan {
    /// Whether an item is within the dates and passes `post` (providers choose streams,
    /// so they are not checked here): what a page would list, for one item on its own.
    pub fn admits(&self, core: &CallLogCore) -> bool {
        self.created_after.is_none_or(|t| core.created_at > t)
            && self.created_before.is_none_or(|t| core.created_at < t)
            && self.post.matches(core)
    }

    /// Splits `filter`: dates go upstream, the rest to `post` (providers choose streams).
    pub fn new(filter: Filter, scan_bound: usize) -> Self {
        Plan {
            scan_bound: scan_bound.max(1),
            created_after: filter.created_after,
            created_before: filter.created_before,
            post: PostFilter {
                directions: filter.directions,
                statuses: filter.statuses,
                number: filter.number,
            },
        }
    }
}

//! The `callLogs` filter: its GraphQL input, its canonical form (which cursors are bound
//! to), and the split into what providers apply upstream and what the gateway checks.

use async_graphql::InputObject;
use chrono::{DateTime, SecondsFormat, Utc};

use crate::domain::CallLogCore;
use crate::graphql::values::{CallDirection, CallStatus, Provider};

/// Filter of `callLogs`.
#[derive(InputObject, Default)]
pub struct CallLogFilter {
    /// Created after this instant (exclusive), applied by every provider.
    #[graphql(validator(custom = "crate::graphql::values::in_date_range"))]
    pub created_after: Option<crate::graphql::scalars::DateTime>,
    /// Created before this instant (exclusive), applied by every provider.
    #[graphql(validator(custom = "crate::graphql::values::in_date_range"))]
    pub created_before: Option<crate::graphql::scalars::DateTime>,
    /// Only these providers (default: every configured one).
    pub providers: Option<Vec<Provider>>,
    /// Only these normalized directions (applied in the gateway).
    pub directions: Option<Vec<CallDirection>>,
    /// Only these normalized statuses (OneUptime applies them itself; others in the gateway).
    pub statuses: Option<Vec<CallStatus>>,
    /// Calls whose `from` or `to` equals this number (applied in the gateway).
    pub number: Option<String>,
}

/// What the gateway checks itself (a stream whose provider applies part of it upstream,
/// such as OneUptime's statuses, passes only matching items anyway).
#[derive(Debug, Clone, Default)]
pub(crate) struct PostFilter {
    directions: Option<Vec<CallDirection>>,
    pub(crate) statuses: Option<Vec<CallStatus>>,
    number: Option<String>,
}

impl PostFilter {
    pub(crate) fn is_empty(&self) -> bool {
        self.directions.is_none() && self.statuses.is_none() && self.number.is_none()
    }

    /// Whether only statuses are checked here (a provider may apply those upstream).
    pub(crate) fn only_statuses(&self) -> bool {
        self.directions.is_none() && self.number.is_none()
    }

    pub(crate) fn matches(&self, core: &CallLogCore) -> bool {
        self.directions
            .as_ref()
            .is_none_or(|d| d.contains(&core.direction.into()))
            && self.statuses.as_ref().is_none_or(|s| s.contains(&core.status.into()))
            && self
                .number
                .as_ref()
                .is_none_or(|n| core.from.as_deref() == Some(n.as_str()) || core.to.as_deref() == Some(n.as_str()))
    }
}

/// The `callLogs` filter as streams read it: the dates every provider applies upstream,
/// and what the gateway checks (`post`), within a scan bound per page.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Items one stream may scan per page for `post`.
    pub(crate) scan_bound: usize,
    pub(crate) created_after: Option<DateTime<Utc>>,
    pub(crate) created_before: Option<DateTime<Utc>>,
    pub(crate) post: PostFilter,
}

impl CallLogFilter {
    pub(super) fn canonical(&self) -> String {
        let stamp = |t: &Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true));
        format!(
            "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
            stamp(&self.created_after.map(|t| t.0)),
            stamp(&self.created_before.map(|t| t.0)),
            self.providers,
            self.directions,
            self.statuses,
            self.number
        )
    }
}

impl Plan {
    /// Splits `filter`: dates go upstream, the rest to `post`.
    pub(super) fn new(filter: CallLogFilter, scan_bound: usize) -> Self {
        Plan {
            scan_bound,
            created_after: filter.created_after.map(|t| t.0),
            created_before: filter.created_before.map(|t| t.0),
            post: PostFilter {
                directions: filter.directions,
                statuses: filter.statuses,
                number: filter.number,
            },
        }
    }
}

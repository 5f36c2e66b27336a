//! The `callLogs` filter: its GraphQL input, its canonical form (which cursors are bound
//! to), and the split into what providers apply upstream and what the gateway checks.

use async_graphql::InputObject;
use chrono::{DateTime, SecondsFormat, Utc};

use crate::domain::CallLogCore;
use crate::graphql::values::{CallDirection, CallStatus, Provider};
use crate::providers::{oneuptime as ou, signalwire as sw, voximplant as vx};

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

/// What the gateway checks itself.
#[derive(Debug, Clone, Default)]
pub(super) struct PostFilter {
    directions: Option<Vec<CallDirection>>,
    statuses: Option<Vec<CallStatus>>,
    number: Option<String>,
}

impl PostFilter {
    pub(super) fn is_empty(&self) -> bool {
        self.directions.is_none() && self.statuses.is_none() && self.number.is_none()
    }

    /// Whether only statuses are checked here (OneUptime applies those upstream).
    pub(super) fn only_statuses(&self) -> bool {
        self.directions.is_none() && self.number.is_none()
    }

    pub(super) fn matches(&self, core: &CallLogCore) -> bool {
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

#[derive(Debug, Clone)]
pub(super) struct Plan {
    /// Items one stream may scan per page for `post`.
    pub(super) scan_bound: usize,
    pub(super) created_after: Option<DateTime<Utc>>,
    pub(super) created_before: Option<DateTime<Utc>>,
    pub(super) post: PostFilter,
    /// OneUptime's raw statuses for the normalized ones asked (None = no status filter
    /// upstream: none asked, or `UNKNOWN` asked, which only the gateway can check).
    pub(super) oneuptime_statuses: Option<Vec<String>>,
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
    pub(super) fn signalwire(&self) -> sw::ListFilter {
        sw::ListFilter {
            created_after: self.created_after,
            created_before: self.created_before,
            created_on: None,
            include_deleted: false,
        }
    }

    pub(super) fn oneuptime(&self) -> ou::ListFilter {
        ou::ListFilter {
            created_after: self.created_after,
            created_before: self.created_before,
            statuses: self.oneuptime_statuses.clone().unwrap_or_default(),
            ..ou::ListFilter::default()
        }
    }

    /// Whether OneUptime applies the whole filter upstream (so its count is exact).
    pub(super) fn oneuptime_exact(&self) -> bool {
        self.post.only_statuses() && (self.post.statuses.is_none() || self.oneuptime_statuses.is_some())
    }

    /// No OneUptime status can match the normalized statuses asked.
    pub(super) fn oneuptime_empty(&self) -> bool {
        self.oneuptime_statuses.as_ref().is_some_and(Vec::is_empty)
    }

    pub(super) fn voximplant(&self) -> vx::SessionFilter {
        vx::SessionFilter {
            created_after: self.created_after,
            created_before: self.created_before,
            ..vx::SessionFilter::default()
        }
    }

    /// Splits `filter`: dates (and OneUptime's statuses) go upstream, the rest to `post`.
    pub(super) fn new(filter: CallLogFilter, scan_bound: usize) -> Self {
        Plan {
            scan_bound,
            created_after: filter.created_after.map(|t| t.0),
            created_before: filter.created_before.map(|t| t.0),
            oneuptime_statuses: filter
                .statuses
                .as_deref()
                .and_then(|asked| ou::raw_statuses(|s| asked.contains(&s.into()))),
            post: PostFilter {
                directions: filter.directions,
                statuses: filter.statuses,
                number: filter.number,
            },
        }
    }
}

//! The normalized core of one call log and its enums.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Money;

/// The upstream a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Provider {
    SignalWire,
    OneUptime,
    Voximplant,
    #[cfg(feature = "fake-provider")]
    Fake,
}

impl Provider {
    /// Stable lower-case name used in logs, cache keys and error extensions.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::SignalWire => "signalwire",
            Provider::OneUptime => "oneuptime",
            Provider::Voximplant => "voximplant",
            #[cfg(feature = "fake-provider")]
            Provider::Fake => "fake",
        }
    }
}

/// Normalized call direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CallDirection {
    Inbound,
    Outbound,
    Unknown,
}

/// Normalized call status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CallStatus {
    Queued,
    Ringing,
    InProgress,
    /// The provider placed the call and records nothing of whether it was answered.
    Placed,
    Completed,
    Busy,
    NoAnswer,
    Failed,
    Canceled,
    Deleted,
    Unknown,
}

impl CallStatus {
    /// True once the call can no longer change: such records are cached for long.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            CallStatus::Completed
                | CallStatus::Placed
                | CallStatus::Busy
                | CallStatus::NoAnswer
                | CallStatus::Failed
                | CallStatus::Canceled
                | CallStatus::Deleted
        )
    }
}

/// The fields of the `CallLog` interface, normalized across providers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallLogCore {
    pub provider: Provider,
    pub native_id: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub direction: CallDirection,
    pub status: CallStatus,
    /// The provider's raw status string, unchanged.
    pub provider_status: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_seconds: Option<i64>,
    pub cost: Option<Money>,
}

impl CallLogCore {
    /// Whether the record is immutable from now on (see `cache::Ttls`).
    pub fn is_final(&self) -> bool {
        self.status.is_final()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_terminal_statuses_are_final() {
        assert!(CallStatus::Completed.is_final());
        assert!(CallStatus::Deleted.is_final());
        assert!(!CallStatus::InProgress.is_final());
        assert!(!CallStatus::Unknown.is_final());
    }
}

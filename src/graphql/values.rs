//! GraphQL renderings of the domain's value types: enums and `Money`.

use async_graphql::{Enum, SimpleObject};

use crate::domain;

/// The upstream provider a record comes from.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum Provider {
    #[graphql(name = "SIGNALWIRE")]
    SignalWire,
    #[graphql(name = "ONEUPTIME")]
    OneUptime,
    #[graphql(name = "VOXIMPLANT")]
    Voximplant,
}

/// Normalized call direction. SignalWire's `outbound-api` and `outbound-dial` are OUTBOUND.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum CallDirection {
    Inbound,
    Outbound,
    /// The provider gives no direction (e.g. Dialogflow calls, video sessions) or an unknown one.
    Unknown,
}

/// Normalized call status; the provider's own value is in `providerStatus`.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum CallStatus {
    Queued,
    Ringing,
    InProgress,
    Completed,
    Busy,
    NoAnswer,
    Failed,
    Canceled,
    /// The provider deleted the log (SignalWire `include_deleted`).
    Deleted,
    /// A status the gateway does not recognise, or none.
    Unknown,
}

/// An exact amount of money: a decimal string, never a float.
#[derive(SimpleObject, Clone, Debug)]
pub struct Money {
    /// The amount as a decimal string, e.g. "0.0085".
    pub amount: crate::graphql::scalars::Decimal,
    /// ISO 4217 currency code.
    pub currency: &'static str,
}

impl From<domain::Provider> for Provider {
    fn from(p: domain::Provider) -> Self {
        match p {
            domain::Provider::SignalWire => Provider::SignalWire,
            domain::Provider::OneUptime => Provider::OneUptime,
            domain::Provider::Voximplant => Provider::Voximplant,
        }
    }
}

impl From<domain::CallDirection> for CallDirection {
    fn from(d: domain::CallDirection) -> Self {
        match d {
            domain::CallDirection::Inbound => CallDirection::Inbound,
            domain::CallDirection::Outbound => CallDirection::Outbound,
            domain::CallDirection::Unknown => CallDirection::Unknown,
        }
    }
}

impl From<domain::CallStatus> for CallStatus {
    fn from(s: domain::CallStatus) -> Self {
        use domain::CallStatus as S;
        match s {
            S::Queued => CallStatus::Queued,
            S::Ringing => CallStatus::Ringing,
            S::InProgress => CallStatus::InProgress,
            S::Completed => CallStatus::Completed,
            S::Busy => CallStatus::Busy,
            S::NoAnswer => CallStatus::NoAnswer,
            S::Failed => CallStatus::Failed,
            S::Canceled => CallStatus::Canceled,
            S::Deleted => CallStatus::Deleted,
            S::Unknown => CallStatus::Unknown,
        }
    }
}

impl From<&domain::Money> for Money {
    fn from(m: &domain::Money) -> Self {
        Money {
            amount: crate::graphql::scalars::Decimal(m.amount),
            currency: m.currency,
        }
    }
}

/// Input validator of every `DateTime` argument and filter field: instants outside
/// 1970-01-01T00:00:00Z..=9999-12-31T23:59:59Z are `BAD_USER_INPUT` (see `domain::time`).
pub fn in_date_range(t: &crate::graphql::scalars::DateTime) -> Result<(), String> {
    match domain::time::in_range(t.0) {
        true => Ok(()),
        false => Err("dates must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z".into()),
    }
}

/// Input validator of `Date` arguments: the days of the `DateTime` range.
pub fn in_day_range(d: &crate::graphql::scalars::Date) -> Result<(), String> {
    match d
        .0
        .and_hms_opt(0, 0, 0)
        .is_some_and(|t| domain::time::in_range(t.and_utc()))
    {
        true => Ok(()),
        false => Err("dates must be between 1970-01-01 and 9999-12-31".into()),
    }
}

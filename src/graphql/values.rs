//! GraphQL renderings of the domain's value types: enums and `Money`.
//!
//! The enums are async-graphql remote enums of the domain's: the derive generates both
//! conversions and fails to compile when a variant is missing on either side.

use async_graphql::{Enum, SimpleObject};

use crate::domain;

/// The upstream provider a record comes from.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::Provider")]
pub enum Provider {
    #[graphql(name = "SIGNALWIRE")]
    SignalWire,
    #[graphql(name = "ONEUPTIME")]
    OneUptime,
    #[graphql(name = "VOXIMPLANT")]
    Voximplant,
    #[cfg(feature = "fake-provider")]
    #[graphql(name = "FAKE")]
    Fake,
}

/// Normalized call direction. SignalWire's `outbound-api` and `outbound-dial` are OUTBOUND.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::CallDirection")]
pub enum CallDirection {
    Inbound,
    Outbound,
    /// The provider gives no direction (e.g. Dialogflow calls, video sessions) or an unknown one.
    Unknown,
}

/// Normalized call status; the provider's own value is in `providerStatus`.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::CallStatus")]
pub enum CallStatus {
    Queued,
    Ringing,
    InProgress,
    /// The provider placed the call and records nothing of whether it was answered
    /// (OneUptime's `Success`): not the same as COMPLETED, which means answered.
    Placed,
    /// The call was answered and has ended.
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
pub(super) struct Money {
    /// The amount as a decimal string, e.g. "0.0085".
    pub amount: crate::graphql::scalars::Decimal,
    /// ISO 4217 currency code.
    pub currency: &'static str,
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
pub(super) fn in_date_range(t: &crate::graphql::scalars::DateTime) -> Result<(), String> {
    match domain::time::in_range(t.0) {
        true => Ok(()),
        false => Err("dates must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z".into()),
    }
}

/// Input validator of `Date` arguments: the days of the `DateTime` range.
pub(super) fn in_day_range(d: &crate::graphql::scalars::Date) -> Result<(), String> {
    match d
        .0
        .and_hms_opt(0, 0, 0)
        .is_some_and(|t| domain::time::in_range(t.and_utc()))
    {
        true => Ok(()),
        false => Err("dates must be between 1970-01-01 and 9999-12-31".into()),
    }
}

/// A count or duration as GraphQL's 32-bit `Int`. A value past 2^31-1 is not clamped: the
/// field fails with `UPSTREAM_BAD_RESPONSE` (as graphql-js does for such values), so a
/// client never reads a wrong number.
pub(super) fn int32<T: TryInto<i32> + Copy + std::fmt::Display>(
    value: T,
) -> Result<i32, crate::graphql::error::GatewayError> {
    value.try_into().map_err(|_| {
        crate::graphql::error::GatewayError::new(
            crate::graphql::error::ErrorCode::UpstreamBadResponse,
            format!("{value} does not fit GraphQL's 32-bit Int"),
        )
    })
}

/// `int32` of an optional value.
pub(super) fn opt_int32<T: TryInto<i32> + Copy + std::fmt::Display>(
    value: Option<T>,
) -> Result<Option<i32>, crate::graphql::error::GatewayError> {
    value.map(int32).transpose()
}

/// A provider's numeric id as a GraphQL `ID`.
pub(super) fn numeric_id(id: u64) -> async_graphql::ID {
    async_graphql::ID(id.to_string())
}

/// A numeric id given as a GraphQL `ID` argument; anything else is `BAD_USER_INPUT`.
pub(super) fn parse_numeric_id(id: &async_graphql::ID) -> Result<u64, crate::graphql::error::GatewayError> {
    id.parse()
        .map_err(|_| crate::graphql::error::GatewayError::bad_input(format!("{:?} is not a numeric id", id.as_str())))
}

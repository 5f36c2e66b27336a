//! The schema's custom scalars, each with a description and `@specifiedBy`:
//! `DateTime` (RFC 3339 date-time, UTC), `Date` (RFC 3339 full-date), `Decimal` (an exact
//! decimal as a string) and `JSON` (any RFC 8259 value).
//!
//! async-graphql's own scalars for chrono, rust_decimal and serde_json carry library text
//! ("Implement the DateTime<Utc> scalar") and no `@specifiedBy`, so the gateway defines
//! its own, as thin wrappers around the same types.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{NaiveDate, SecondsFormat, Utc};

/// An instant, as an RFC 3339 date-time string. Outputs are UTC (`2024-05-06T12:20:00Z`,
/// with fractional seconds where the provider has them); inputs may carry any offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DateTime(pub chrono::DateTime<Utc>);

/// An instant, as an RFC 3339 date-time string. Outputs are UTC (`2024-05-06T12:20:00Z`,
/// with fractional seconds where the provider has them); inputs may carry any offset.
#[Scalar(
    name = "DateTime",
    specified_by_url = "https://datatracker.ietf.org/doc/html/rfc3339#section-5.6"
)]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
                .map(|t| DateTime(t.with_timezone(&Utc)))
                .map_err(|_| InputValueError::custom("expected an RFC 3339 date-time, e.g. 2024-05-06T12:20:00Z")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

impl From<chrono::DateTime<Utc>> for DateTime {
    fn from(t: chrono::DateTime<Utc>) -> Self {
        DateTime(t)
    }
}

/// A calendar day, as an RFC 3339 full-date string (`2024-05-06`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date(pub NaiveDate);

/// A calendar day, as an RFC 3339 full-date string (`2024-05-06`).
#[Scalar(
    name = "Date",
    specified_by_url = "https://datatracker.ietf.org/doc/html/rfc3339#section-5.6"
)]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| InputValueError::custom("expected an RFC 3339 full-date, e.g. 2024-05-06")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

/// An exact decimal number, as a string (`"0.0085"`, `"-12"`): never a float, so no
/// amount is rounded on its way to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decimal(pub rust_decimal::Decimal);

/// An exact decimal number, as a string (`"0.0085"`, `"-12"`): never a float, so no
/// amount is rounded on its way to the client.
#[Scalar(name = "Decimal", specified_by_url = "https://speleotrove.com/decimal/daconvs.html")]
impl ScalarType for Decimal {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => s
                .parse()
                .map(Decimal)
                .map_err(|_| InputValueError::custom("expected a decimal number as a string, e.g. \"0.0085\"")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}

/// Any JSON value (RFC 8259), passed on as the provider sent it: fields the provider
/// documents as free-form.
#[derive(Debug, Clone, PartialEq)]
pub struct Json(pub serde_json::Value);

/// Any JSON value (RFC 8259), passed on as the provider sent it: fields the provider
/// documents as free-form.
#[Scalar(name = "JSON", specified_by_url = "https://www.rfc-editor.org/rfc/rfc8259")]
impl ScalarType for Json {
    fn parse(value: Value) -> InputValueResult<Self> {
        value
            .into_json()
            .map(Json)
            .map_err(|_| InputValueError::custom("expected a JSON value"))
    }

    fn to_value(&self) -> Value {
        Value::from_json(self.0.clone()).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_times_parse_any_offset_and_print_utc() {
        let t = DateTime::parse(Value::String("2024-05-06T14:20:00.5+02:00".into())).unwrap();
        assert_eq!(t.to_value(), Value::String("2024-05-06T12:20:00.500Z".into()));
        assert!(DateTime::parse(Value::String("yesterday".into())).is_err());
    }

    #[test]
    fn decimals_stay_exact_strings() {
        let d = Decimal::parse(Value::String("25043790.512862742".into())).unwrap();
        assert_eq!(d.to_value(), Value::String("25043790.512862742".into()));
    }
}

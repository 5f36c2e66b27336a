//! The gateway's OneUptime filter, translated into OneUptime's `query` object
//! (providers.md §2.4) so filtering happens upstream, never by fetch-and-discard.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use crate::domain::time;

/// What a `oneUptimeCallLogs` query may filter on. Ids are validated UUIDs.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ListFilter {
    /// Exclusive lower bound on `createdAt`.
    pub created_after: Option<DateTime<Utc>>,
    /// Exclusive upper bound on `createdAt`.
    pub created_before: Option<DateTime<Utc>>,
    /// Raw OneUptime statuses (`Success`, `Low Balance`, ...); empty means all.
    pub statuses: Vec<String>,
    pub from_number: Option<String>,
    pub to_number: Option<String>,
    pub incident_id: Option<String>,
    pub monitor_id: Option<String>,
    pub user_id: Option<String>,
    pub team_id: Option<String>,
}

/// ISO 8601 with milliseconds: the precision OneUptime prints (`toISOString()`).
pub(super) fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// ISO 8601 with microseconds: the precision OneUptime stores (Postgres `timestamptz`).
fn stamp_micros(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Newest first, ties broken by id: the order keyset paging relies on.
pub(super) fn sort() -> Value {
    json!({ "createdAt": "DESC", "_id": "DESC" })
}

/// The `query` object for `filter`, with an optional keyset anchor: the printed
/// (millisecond) `createdAt` of the last row seen. `None` when the bounds leave nothing
/// to find.
///
/// OneUptime stores `createdAt` in microseconds but prints milliseconds
/// (OneUptime/oneuptime `Common/Utils/JSONFunctions.ts`, `toISOString()`), so a row
/// printed as `t` lies anywhere in `[t, t + 1 ms)`. Every bound is therefore set on
/// whole printed milliseconds: the anchor keeps its whole millisecond
/// (`createdAt < anchor + 1 ms`; the caller skips the ids of that millisecond it has
/// seen), `createdAfter: t` keeps rows printed after `t` (`>= trunc(t) + 1 ms`), and
/// `createdBefore: t` rows printed before it (`< ceil(t)`).
pub(super) fn list_query(filter: &ListFilter, anchor: Option<DateTime<Utc>>) -> Option<Value> {
    let millisecond = Duration::milliseconds(1);
    let low = filter
        .created_after
        .map(|t| time::shift(t.trunc_subsecs_ms(), millisecond));
    // Exclusive upper bound.
    let high = [
        filter.created_before.map(|t| t.ceil_subsecs_ms()),
        anchor.map(|t| time::shift(t.trunc_subsecs_ms(), millisecond)),
    ]
    .into_iter()
    .flatten()
    .min();
    let mut query = Map::new();
    match (low, high) {
        (Some(l), Some(h)) if l >= h => return None,
        (Some(l), Some(h)) => {
            // `InBetween` is inclusive on both ends (QueryHelper.inBetween); the last
            // microsecond before `h` is the stored value just under the bound.
            let last = time::shift(h, -Duration::microseconds(1));
            query.insert(
                "createdAt".into(),
                json!({"_type": "InBetween", "startValue": stamp(l), "endValue": stamp_micros(last)}),
            );
        }
        (Some(l), None) => {
            query.insert(
                "createdAt".into(),
                json!({"_type": "GreaterThanOrEqual", "value": stamp(l)}),
            );
        }
        (None, Some(h)) => {
            query.insert("createdAt".into(), json!({"_type": "LessThan", "value": stamp(h)}));
        }
        (None, None) => {}
    }
    if !filter.statuses.is_empty() {
        query.insert("status".into(), json!({"_type": "Includes", "value": filter.statuses}));
    }
    let equalities = [
        ("fromNumber", &filter.from_number),
        ("toNumber", &filter.to_number),
        ("incidentId", &filter.incident_id),
        ("monitorId", &filter.monitor_id),
        ("userId", &filter.user_id),
        ("teamId", &filter.team_id),
    ];
    for (column, value) in equalities {
        if let Some(v) = value {
            query.insert(column.into(), Value::String(v.clone()));
        }
    }
    Some(Value::Object(query))
}

/// A phone number OneUptime refuses as a `fromNumber`/`toNumber` filter value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a phone number OneUptime can filter on: give 10 to 13 digits, optionally after `+`")]
pub struct InvalidPhone(pub String);

/// A phone number as OneUptime will take it in a query: spaces, dashes, dots and
/// parentheses removed (stored numbers are E.164), then checked the way OneUptime
/// checks it. OneUptime's `Phone` type (OneUptime/oneuptime `Common/Types/Phone.ts`)
/// trims the value and tests `^[+]?[(]?[0-9]{3}[)]?[-\s.]?[0-9]{3}[-\s.]?[0-9]{4,7}$`,
/// answering 400 "Phone is not in valid format" otherwise; without the separators
/// that is an optional `+` and 10 to 13 digits.
pub fn phone_filter(raw: &str) -> Result<String, InvalidPhone> {
    let number: String = raw
        .chars()
        .filter(|c| !(c.is_whitespace() || matches!(c, '-' | '.' | '(' | ')')))
        .collect();
    let digits = number.strip_prefix('+').unwrap_or(&number);
    if (10..=13).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(number)
    } else {
        Err(InvalidPhone(raw.chars().take(64).collect()))
    }
}

/// `_id IN (...)` for a batch read.
pub(super) fn by_ids(ids: &[String]) -> Value {
    json!({ "_id": { "_type": "Includes", "value": ids } })
}

trait Milliseconds {
    fn trunc_subsecs_ms(self) -> Self;
    fn ceil_subsecs_ms(self) -> Self;
}

impl Milliseconds for DateTime<Utc> {
    fn trunc_subsecs_ms(self) -> Self {
        chrono::DurationRound::duration_trunc(self, Duration::milliseconds(1)).unwrap_or(self)
    }
    fn ceil_subsecs_ms(self) -> Self {
        let down = self.trunc_subsecs_ms();
        if down == self {
            down
        } else {
            time::shift(down, Duration::milliseconds(1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn every_filter_field_lands_in_the_query() {
        let filter = ListFilter {
            created_after: Some(at("2024-01-01T00:00:00Z")),
            created_before: Some(at("2024-02-01T00:00:00Z")),
            statuses: vec!["Success".into(), "Low Balance".into()],
            from_number: Some("+1555".into()),
            to_number: Some("+1666".into()),
            incident_id: Some("i".into()),
            monitor_id: Some("m".into()),
            user_id: Some("u".into()),
            team_id: Some("t".into()),
        };
        let q = list_query(&filter, None).unwrap();
        assert_eq!(
            q,
            json!({
                "createdAt": {"_type": "InBetween", "startValue": "2024-01-01T00:00:00.001Z", "endValue": "2024-01-31T23:59:59.999999Z"},
                "status": {"_type": "Includes", "value": ["Success", "Low Balance"]},
                "fromNumber": "+1555", "toNumber": "+1666", "incidentId": "i", "monitorId": "m", "userId": "u", "teamId": "t",
            })
        );
    }

    #[test]
    fn the_keyset_bound_tightens_the_upper_bound() {
        let filter = ListFilter {
            created_before: Some(at("2024-02-01T00:00:00Z")),
            ..ListFilter::default()
        };
        let q = list_query(&filter, Some(at("2024-01-15T10:00:00.250Z"))).unwrap();
        assert_eq!(
            q,
            json!({"createdAt": {"_type": "LessThan", "value": "2024-01-15T10:00:00.251Z"}}),
            "the anchor keeps its whole millisecond: OneUptime prints ms, stores us"
        );
        let empty = ListFilter {
            created_after: Some(at("2024-03-01T00:00:00Z")),
            ..filter
        };
        assert_eq!(
            list_query(&empty, None),
            None,
            "after > before finds nothing, without asking"
        );
    }

    #[test]
    fn created_before_keeps_rows_printed_in_the_millisecond_before_it() {
        // A row stored at 09:59:59.999400 prints as .999Z, before the bound: the old
        // `<= .999Z` bound left it out.
        let filter = ListFilter {
            created_before: Some(at("2024-01-15T10:00:00Z")),
            ..ListFilter::default()
        };
        assert_eq!(
            list_query(&filter, None).unwrap(),
            json!({"createdAt": {"_type": "LessThan", "value": "2024-01-15T10:00:00.000Z"}})
        );
    }

    #[test]
    fn phone_filters_are_normalized_or_refused_as_oneuptime_would() {
        // Common/Types/Phone.ts accepts these once separators are gone ...
        assert_eq!(phone_filter("+1 (415) 555-0001").unwrap(), "+14155550001");
        assert_eq!(phone_filter("+44 20 7123 4567").unwrap(), "+442071234567");
        assert_eq!(phone_filter("4155550001").unwrap(), "4155550001");
        // ... and answers 400 "Phone is not in valid format" for these.
        for bad in ["+1555", "", "+", "+1415555000123456", "call me", "+1415555000x"] {
            assert!(phone_filter(bad).is_err(), "{bad:?} must be refused");
        }
    }
}

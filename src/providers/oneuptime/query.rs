//! The gateway's OneUptime filter, translated into OneUptime's `query` object
//! (providers.md §2.4) so filtering happens upstream, never by fetch-and-discard.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use crate::domain::time;

/// What a `oneUptimeCallLogs` query may filter on. Ids are validated UUIDs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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

/// ISO 8601 with milliseconds: OneUptime's own precision.
pub(super) fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Newest first, ties broken by id: the order keyset paging relies on.
pub(super) fn sort() -> Value {
    json!({ "createdAt": "DESC", "_id": "DESC" })
}

/// The `query` object for `filter`, with an optional inclusive keyset bound
/// `createdAt <= upper`. `None` when the bounds leave nothing to find.
pub(super) fn list_query(filter: &ListFilter, upper: Option<DateTime<Utc>>) -> Option<Value> {
    let millisecond = Duration::milliseconds(1);
    // OneUptime stores milliseconds, so exclusive bounds become inclusive ones 1 ms inside.
    let low = filter
        .created_after
        .map(|t| time::shift(t.trunc_subsecs_ms(), millisecond));
    let high = [
        filter
            .created_before
            .map(|t| time::shift(t.ceil_subsecs_ms(), -millisecond)),
        upper,
    ]
    .into_iter()
    .flatten()
    .min();
    let mut query = Map::new();
    match (low, high) {
        (Some(l), Some(h)) if l > h => return None,
        (Some(l), Some(h)) => {
            query.insert(
                "createdAt".into(),
                json!({"_type": "InBetween", "startValue": stamp(l), "endValue": stamp(h)}),
            );
        }
        (Some(l), None) => {
            query.insert(
                "createdAt".into(),
                json!({"_type": "GreaterThanOrEqual", "value": stamp(l)}),
            );
        }
        (None, Some(h)) => {
            query.insert(
                "createdAt".into(),
                json!({"_type": "LessThanOrEqual", "value": stamp(h)}),
            );
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
                "createdAt": {"_type": "InBetween", "startValue": "2024-01-01T00:00:00.001Z", "endValue": "2024-01-31T23:59:59.999Z"},
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
            json!({"createdAt": {"_type": "LessThanOrEqual", "value": "2024-01-15T10:00:00.250Z"}})
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
}

//! Wire -> domain for OneUptime: unwrap typed values, normalize status, cents to `Money`.

use std::str::FromStr;

use rust_decimal::Decimal;

use super::model::{CallLog, RelatedIds};
use super::wire::{CallLogWire, Cents, Typed};
use crate::domain::{CallDirection, CallLogCore, CallStatus, Money, Provider, time};

/// A payload that breaks what the gateway relies on.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{0}")]
pub(super) struct MappingError(String);

/// The five `status` values OneUptime documents (providers.md §2.5).
const KNOWN_STATUSES: [&str; 5] = ["Success", "Error", "Low Balance", "Missed Call", "Busy"];

/// The raw statuses to ask OneUptime for, given which normalized statuses are wanted;
/// None when `UNKNOWN` is wanted, as values outside the documented five cannot be named.
pub fn raw_statuses(wanted: impl Fn(CallStatus) -> bool) -> Option<Vec<String>> {
    if wanted(CallStatus::Unknown) {
        return None;
    }
    let raw = KNOWN_STATUSES.iter().filter(|raw| wanted(status(Some(raw))));
    Some(raw.map(|raw| raw.to_string()).collect())
}

/// OneUptime `status` -> normalized status (providers.md §2.5 lists the five values).
///
/// OneUptime's worker writes `Success` as soon as its telephony provider accepted the
/// outbound call (OneUptime/oneuptime `App/FeatureSet/Notification/Services/
/// CallService.ts`), before anyone could answer, and never comes back to write `Missed
/// Call` or `Busy`: `Success` says the call was placed, so it is `PLACED`, not
/// `COMPLETED` (which every other provider uses for an answered call), and a dashboard
/// counting answered calls does not count these.
pub(super) fn status(raw: Option<&str>) -> CallStatus {
    match raw {
        Some("Success") => CallStatus::Placed,
        Some("Error" | "Low Balance") => CallStatus::Failed,
        Some("Missed Call") => CallStatus::NoAnswer,
        Some("Busy") => CallStatus::Busy,
        _ => CallStatus::Unknown,
    }
}

fn id(value: Option<Typed<String>>) -> Option<String> {
    value.map(Typed::into_inner)
}

fn cents(value: Option<Typed<Cents>>, log: &str) -> Result<Decimal, MappingError> {
    let bad = || MappingError(format!("call log {log}: callCostInUSDCents is not a number"));
    match value.map(Typed::into_inner) {
        None => Ok(Decimal::ZERO),
        Some(Cents::Integer(n)) => Ok(Decimal::from(n)),
        Some(Cents::Float(f)) => Money::from_wire_f64(f, "USD").map(|m| m.amount).map_err(|_| bad()),
        Some(Cents::Text(s)) => Decimal::from_str(s.trim()).map_err(|_| bad()),
    }
}

impl TryFrom<CallLogWire> for CallLog {
    type Error = MappingError;

    fn try_from(w: CallLogWire) -> Result<Self, MappingError> {
        let native_id = w.id.into_inner();
        let created_at = w
            .created_at
            .map(Typed::into_inner)
            .ok_or_else(|| MappingError(format!("call log {native_id}: createdAt is missing")))?;
        if !time::in_range(created_at) {
            return Err(MappingError(format!(
                "call log {native_id}: createdAt {created_at} is outside 1970..9999"
            )));
        }
        let cost_in_usd_cents = cents(w.call_cost_in_usd_cents, &native_id)?;
        let cost = Money::new((cost_in_usd_cents / Decimal::ONE_HUNDRED).normalize(), "USD");
        Ok(CallLog {
            core: CallLogCore {
                provider: Provider::OneUptime,
                from: id(w.from_number),
                to: id(w.to_number),
                direction: CallDirection::Outbound,
                status: status(w.status.as_deref()),
                provider_status: w.status,
                created_at,
                started_at: None,
                ended_at: None,
                duration_seconds: None,
                cost: Some(cost),
                native_id,
            },
            project_id: id(w.project_id),
            status_message: w.status_message,
            call_data: w.call_data.unwrap_or(serde_json::Value::Null),
            cost_in_usd_cents,
            updated_at: w.updated_at.map(Typed::into_inner),
            related: RelatedIds {
                incident_id: id(w.incident_id),
                user_id: id(w.user_id),
                alert_id: id(w.alert_id),
                monitor_id: id(w.monitor_id),
                scheduled_maintenance_id: id(w.scheduled_maintenance_id),
                status_page_id: id(w.status_page_id),
                status_page_announcement_id: id(w.status_page_announcement_id),
                on_call_duty_policy_id: id(w.on_call_duty_policy_id),
                on_call_duty_policy_escalation_rule_id: id(w.on_call_duty_policy_escalation_rule_id),
                on_call_duty_policy_schedule_id: id(w.on_call_duty_policy_schedule_id),
                team_id: id(w.team_id),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::wire::ListWire;
    use super::*;

    #[test]
    fn the_seed_list_example_decodes_exactly() {
        let list: ListWire =
            serde_json::from_str(include_str!("../../../tests/fixtures/oneuptime/get-list-seed.json")).unwrap();
        assert_eq!(list.count, Some(10));
        assert_eq!(list.data.len(), 3);
        let first = &list.data[0];
        assert!(matches!(&first.id, Typed::Bare(id) if id == "376d7300-28fe-11f1-b591-3fdcef396aba"));
        assert!(matches!(
            first.call_cost_in_usd_cents.as_ref().map(|c| match c {
                Typed::Bare(Cents::Integer(n)) => *n,
                _ => -1,
            }),
            Some(150)
        ));
        assert_eq!(first.call_data.as_ref().unwrap()["message"], "Alert notification");
        assert_eq!(first.call_data.as_ref().unwrap()["incidentId"], "123");
        assert!(matches!(&first.from_number, Some(Typed::Bare(n)) if n == "+1-555-999-8888"));
        assert!(matches!(&first.project_id, Some(Typed::Bare(p)) if p == "5f8b9c0d-e1a2-4b3c-8d5e-6f7a8b9c0d1e"));
        assert_eq!(first.status.as_deref(), Some("Completed"));
        assert!(first.created_at.is_none(), "the seed's select left createdAt out");
        let err = CallLog::try_from(list.data.into_iter().next().unwrap()).unwrap_err();
        assert!(
            err.0.contains("createdAt"),
            "the gateway always selects createdAt: {err}"
        );
    }

    #[test]
    fn typed_wrappers_decode_to_domain_values() {
        let w: CallLogWire =
            serde_json::from_str(include_str!("../../../tests/fixtures/oneuptime/call-log-typed.json")).unwrap();
        let log = CallLog::try_from(w).unwrap();
        assert_eq!(log.core.native_id, "7a1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d");
        assert_eq!(log.core.from.as_deref(), Some("+15550001111"));
        assert_eq!(log.core.to.as_deref(), Some("+15550002222"));
        assert_eq!(log.core.created_at.to_rfc3339(), "2024-05-06T12:20:00.123+00:00");
        assert_eq!(log.updated_at.unwrap().to_rfc3339(), "2024-05-06T12:21:00+00:00");
        assert_eq!(log.project_id.as_deref(), Some("5f8b9c0d-e1a2-4b3c-8d5e-6f7a8b9c0d1e"));
        assert_eq!(
            log.related.incident_id.as_deref(),
            Some("11111111-2222-4333-8444-555555555555")
        );
        assert_eq!(log.related.monitor_id, None);
        assert_eq!(log.core.status, CallStatus::Failed);
        assert_eq!(log.core.provider_status.as_deref(), Some("Low Balance"));
        assert_eq!(log.status_message.as_deref(), Some("Balance too low"));
        assert_eq!(log.cost_in_usd_cents.to_string(), "150");
        assert_eq!(log.core.cost.as_ref().unwrap().amount.to_string(), "1.5");
        assert_eq!(log.core.direction, CallDirection::Outbound);
    }

    #[test]
    fn a_created_at_outside_1970_to_9999_is_a_bad_record() {
        let mut json: serde_json::Value =
            serde_json::from_str(include_str!("../../../tests/fixtures/oneuptime/call-log-typed.json")).unwrap();
        json["createdAt"] = serde_json::json!({"_type": "DateTime", "value": "+262142-12-31T23:59:59.500Z"});
        let w: CallLogWire = serde_json::from_value(json).unwrap();
        assert!(CallLog::try_from(w).is_err());
    }

    #[test]
    fn the_five_documented_statuses_normalize() {
        assert_eq!(
            status(Some("Success")),
            CallStatus::Placed,
            "placed, not answered (CallService.ts)"
        );
        assert_eq!(status(Some("Error")), CallStatus::Failed);
        assert_eq!(status(Some("Low Balance")), CallStatus::Failed);
        assert_eq!(status(Some("Missed Call")), CallStatus::NoAnswer);
        assert_eq!(status(Some("Busy")), CallStatus::Busy);
        assert_eq!(status(Some("Completed")), CallStatus::Unknown);
    }

    #[test]
    fn raw_statuses_name_every_documented_value_of_the_wanted_statuses_and_none_for_unknown() {
        let only = |wanted: &'static [CallStatus]| move |s: CallStatus| wanted.contains(&s);
        assert_eq!(
            raw_statuses(only(&[CallStatus::Failed, CallStatus::Busy])),
            Some(vec!["Error".to_string(), "Low Balance".into(), "Busy".into()])
        );
        assert_eq!(
            raw_statuses(only(&[CallStatus::Queued])),
            Some(vec![]),
            "no OneUptime log can match"
        );
        assert_eq!(
            raw_statuses(only(&[CallStatus::Completed, CallStatus::Unknown])),
            None,
            "values outside the documented five cannot be named upstream"
        );
    }
}

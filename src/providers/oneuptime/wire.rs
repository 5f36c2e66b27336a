//! OneUptime's JSON as it arrives (providers.md §2.5): values may come bare or wrapped as
//! `{"_type": "ObjectID" | "Phone" | "DateTime" | "Decimal", "value": ...}`; both decode.
//! Private to the provider; `mapping` enforces what the gateway relies on.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

/// A value, bare or in OneUptime's typed wrapper.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum Typed<T> {
    Wrapped {
        #[serde(rename = "_type")]
        _type: String,
        value: T,
    },
    Bare(T),
}

impl<T> Typed<T> {
    pub(super) fn into_inner(self) -> T {
        match self {
            Typed::Wrapped { value, .. } | Typed::Bare(value) => value,
        }
    }
}

/// `callCostInUSDCents`: an integer column, tolerated as a float or a decimal string.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum Cents {
    Integer(i64),
    Float(f64),
    Text(String),
}

/// One call log with every documented column.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct CallLogWire {
    #[serde(rename = "_id")]
    pub id: Typed<String>,
    pub created_at: Option<Typed<DateTime<Utc>>>,
    pub updated_at: Option<Typed<DateTime<Utc>>>,
    pub project_id: Option<Typed<String>>,
    pub to_number: Option<Typed<String>>,
    pub from_number: Option<Typed<String>>,
    pub call_data: Option<Value>,
    pub status_message: Option<String>,
    pub status: Option<String>,
    #[serde(rename = "callCostInUSDCents")]
    pub call_cost_in_usd_cents: Option<Typed<Cents>>,
    pub incident_id: Option<Typed<String>>,
    pub user_id: Option<Typed<String>>,
    pub alert_id: Option<Typed<String>>,
    pub monitor_id: Option<Typed<String>>,
    pub scheduled_maintenance_id: Option<Typed<String>>,
    pub status_page_id: Option<Typed<String>>,
    pub status_page_announcement_id: Option<Typed<String>>,
    pub on_call_duty_policy_id: Option<Typed<String>>,
    pub on_call_duty_policy_escalation_rule_id: Option<Typed<String>>,
    pub on_call_duty_policy_schedule_id: Option<Typed<String>>,
    pub team_id: Option<Typed<String>>,
}

/// Every column the gateway selects (without `select` OneUptime returns only `_id`).
pub(super) const SELECT: [&str; 21] = [
    "_id",
    "createdAt",
    "updatedAt",
    "projectId",
    "toNumber",
    "fromNumber",
    "callData",
    "statusMessage",
    "status",
    "callCostInUSDCents",
    "incidentId",
    "userId",
    "alertId",
    "monitorId",
    "scheduledMaintenanceId",
    "statusPageId",
    "statusPageAnnouncementId",
    "onCallDutyPolicyId",
    "onCallDutyPolicyEscalationRuleId",
    "onCallDutyPolicyScheduleId",
    "teamId",
];

/// `get-list`: `{"data": [...], "count": n, "skip": n, "limit": n}`.
#[derive(Debug, Deserialize)]
pub(super) struct ListWire<T = Vec<CallLogWire>> {
    /// The rows: `Vec<Wire>` or `SentRows<Wire>`.
    pub data: T,
    /// The total matching count; decoded so the seed example decodes exactly, but the
    /// gateway asks `/count` instead, only when `totalCount` is selected.
    #[serde(default)]
    #[allow(dead_code)]
    pub count: Option<u64>,
}

/// `count`: `{"count": n}`.
#[derive(Debug, Deserialize)]
pub(super) struct CountWire {
    pub count: u64,
}

/// Errors come as `{"error": "..."}` (handler exceptions) or `{"message": "..."}`
/// (middleware, unknown routes).
#[derive(Debug, Default, Deserialize)]
pub(super) struct ErrorWire {
    pub error: Option<String>,
    pub message: Option<String>,
}

impl ErrorWire {
    pub(super) fn text(&self) -> &str {
        self.error.as_deref().or(self.message.as_deref()).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_error_body_shapes_yield_their_text() {
        let handler: ErrorWire = serde_json::from_str(r#"{"error": "Invalid API Key"}"#).unwrap();
        let middleware: ErrorWire = serde_json::from_str(r#"{"message": "Page not found - /x"}"#).unwrap();
        assert_eq!(handler.text(), "Invalid API Key");
        assert_eq!(middleware.text(), "Page not found - /x");
        assert_eq!(ErrorWire::default().text(), "");
    }
}

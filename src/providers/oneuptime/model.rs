//! OneUptime call logs as domain values: every documented column, typed, plus the
//! normalized `CallLogCore`.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cache::Weigh;
use crate::domain::CallLogCore;

/// The ids of the objects a call relates to (all optional upstream).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RelatedIds {
    pub incident_id: Option<String>,
    pub user_id: Option<String>,
    pub alert_id: Option<String>,
    pub monitor_id: Option<String>,
    pub scheduled_maintenance_id: Option<String>,
    pub status_page_id: Option<String>,
    pub status_page_announcement_id: Option<String>,
    pub on_call_duty_policy_id: Option<String>,
    pub on_call_duty_policy_escalation_rule_id: Option<String>,
    pub on_call_duty_policy_schedule_id: Option<String>,
    pub team_id: Option<String>,
}

/// One OneUptime call log (a notification call OneUptime placed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallLog {
    pub core: CallLogCore,
    pub project_id: Option<String>,
    pub status_message: Option<String>,
    /// Free-form by OneUptime's own model (a JSON column).
    pub call_data: Value,
    pub cost_in_usd_cents: Decimal,
    pub updated_at: Option<DateTime<Utc>>,
    pub related: RelatedIds,
}

impl Weigh for CallLog {
    fn weight(&self) -> usize {
        let ids = [
            &self.project_id,
            &self.status_message,
            &self.related.incident_id,
            &self.related.user_id,
            &self.related.alert_id,
            &self.related.monitor_id,
            &self.related.team_id,
        ];
        std::mem::size_of::<Self>()
            + self.core.weight()
            + ids.iter().map(|s| s.as_ref().map_or(0, String::len)).sum::<usize>()
            + self.call_data.to_string().len()
    }
}

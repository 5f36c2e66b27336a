//! Voximplant's JSON as it arrives (providers.md §3.4, §3.6): private to the provider.
//! Timestamps are `YYYY-MM-DD HH:mm:ss` strings; errors arrive in 200 bodies.

use serde::Deserialize;
use serde_json::Value;

use crate::providers::exact::ExactNumber;

/// `{"code": n, "msg": "..."}`.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct ApiError {
    #[serde(default)]
    pub code: i64,
    #[serde(default)]
    pub msg: String,
}

/// Every answer: `result` on success, `error` (or `errors`) otherwise, often with HTTP 200.
#[derive(Debug, Deserialize)]
pub(super) struct Envelope<T> {
    pub result: Option<T>,
    pub total_count: Option<u64>,
    pub error: Option<ApiError>,
    pub errors: Option<Vec<ApiError>>,
    /// Async methods answer `{"result": 1, "history_report_id": n}`.
    pub history_report_id: Option<u64>,
    /// The time zone the answer's dates are written in (listings echo it).
    pub timezone: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct CallSessionWire {
    pub call_session_history_id: u64,
    pub account_id: Option<u64>,
    pub application_id: Option<u64>,
    pub application_name: Option<String>,
    pub user_id: Option<u64>,
    pub rule_name: Option<String>,
    pub start_date: String,
    pub duration: Option<i64>,
    pub initiator_address: Option<String>,
    pub media_server_address: Option<String>,
    pub log_file_url: Option<String>,
    pub finish_reason: Option<String>,
    pub custom_data: Option<String>,
    pub audio_quality: Option<String>,
    pub calls: Option<Vec<CallWire>>,
    pub records: Option<Vec<RecordWire>>,
    pub other_resource_usage: Option<Vec<ResourceUsageWire>>,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct CallWire {
    pub call_id: u64,
    pub start_time: String,
    pub diversion_number: Option<String>,
    pub duration: Option<i64>,
    pub local_number: Option<String>,
    pub remote_number: Option<String>,
    pub remote_number_type: Option<String>,
    pub incoming: Option<bool>,
    pub successful: Option<bool>,
    pub transaction_id: Option<u64>,
    pub record_url: Option<String>,
    pub media_server_address: Option<String>,
    pub cost: Option<ExactNumber>,
    pub custom_data: Option<String>,
    /// "End reason code and description": shape unconfirmed, kept as JSON.
    pub end_reason: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub(super) struct RecordWire {
    pub record_id: u64,
    pub record_name: Option<String>,
    pub cost: Option<ExactNumber>,
    pub start_time: String,
    pub duration: Option<i64>,
    pub record_url: Option<String>,
    pub transaction_id: Option<u64>,
    pub file_size: Option<f64>,
    pub transcription_url: Option<String>,
    pub transcription_status: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ResourceUsageWire {
    pub resource_usage_id: u64,
    pub resource_type: String,
    pub cost: Option<ExactNumber>,
    pub description: Option<String>,
    pub used_at: String,
    pub transaction_id: Option<u64>,
    pub resource_quantity: Option<i64>,
    pub unit: Option<String>,
    pub ref_call_id: Option<u64>,
}

/// `AuditLogInfoType`.
#[derive(Debug, Deserialize)]
pub(super) struct AuditLogWire {
    pub audit_log_id: u64,
    pub subuser_id: Option<u64>,
    pub subuser_name: Option<String>,
    pub account_id: Option<u64>,
    pub requested: String,
    pub ip: Option<String>,
    pub cmd_name: String,
    pub cmd_args: Option<Value>,
    pub cmd_result: Option<Value>,
}

/// `HistoryReportType` (GetHistoryReports).
#[derive(Debug, Deserialize)]
pub(super) struct HistoryReportWire {
    pub history_report_id: u64,
    pub history_type: Option<String>,
    pub created: Option<String>,
    pub format: Option<String>,
    /// "The report is completed if the field exists".
    pub completed: Option<String>,
    pub file_name: Option<String>,
    pub file_size: Option<f64>,
    pub download_size: Option<f64>,
    pub download_count: Option<u64>,
    pub last_downloaded: Option<String>,
    pub store_until: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_get_audit_log_async_answer_decodes_exactly() {
        let env: Envelope<u64> = serde_json::from_str(r#"{"result": 1, "history_report_id": 234254}"#).unwrap();
        assert_eq!((env.result, env.history_report_id), (Some(1), Some(234254)));
        assert!(env.error.is_none() && env.errors.is_none());
    }

    #[test]
    fn both_error_shapes_decode() {
        let one: Envelope<Value> =
            serde_json::from_str(r#"{"error": {"code": 100, "msg": "Authorization failed"}}"#).unwrap();
        let many: Envelope<Value> =
            serde_json::from_str(r#"{"errors": [{"code": 201, "msg": "Invalid parameter"}]}"#).unwrap();
        assert_eq!(one.error.unwrap().code, 100);
        assert_eq!(many.errors.unwrap()[0].msg, "Invalid parameter");
    }
}

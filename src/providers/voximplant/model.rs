//! Voximplant records as domain values. One call log is a JS session
//! (`call_session_history_id`) holding zero or more calls.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cache::Weigh;
use crate::domain::{CallLogCore, Money};

/// One call of a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Call {
    pub call_id: u64,
    pub start_time: DateTime<Utc>,
    pub diversion_number: Option<String>,
    pub duration_seconds: Option<i64>,
    pub local_number: Option<String>,
    pub remote_number: Option<String>,
    pub remote_number_type: Option<String>,
    pub incoming: bool,
    pub successful: bool,
    pub transaction_id: Option<u64>,
    pub record_url: Option<String>,
    pub media_server_address: Option<String>,
    pub cost: Option<Money>,
    pub custom_data: Option<String>,
    pub end_reason: Option<Value>,
}

/// A recording made in a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recording {
    pub record_id: u64,
    pub record_name: Option<String>,
    pub cost: Option<Money>,
    pub start_time: DateTime<Utc>,
    pub duration_seconds: Option<i64>,
    pub record_url: Option<String>,
    pub transaction_id: Option<u64>,
    pub file_size: Option<f64>,
    pub transcription_url: Option<String>,
    pub transcription_status: Option<String>,
}

/// Another billed resource a session used (ASR, TTS, video, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceUsage {
    pub resource_usage_id: u64,
    pub resource_type: String,
    pub cost: Option<Money>,
    pub description: Option<String>,
    pub used_at: DateTime<Utc>,
    pub transaction_id: Option<u64>,
    pub resource_quantity: Option<i64>,
    pub unit: Option<String>,
    pub ref_call_id: Option<u64>,
}

/// One JS session from GetCallHistory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallSession {
    pub core: CallLogCore,
    pub id: u64,
    pub account_id: Option<u64>,
    pub application_id: Option<u64>,
    pub application_name: Option<String>,
    pub user_id: Option<u64>,
    pub rule_name: Option<String>,
    pub audio_quality: Option<String>,
    pub initiator_address: Option<String>,
    pub media_server_address: Option<String>,
    pub log_file_url: Option<String>,
    pub finish_reason: Option<String>,
    pub custom_data: Option<String>,
    pub calls: Vec<Call>,
    pub records: Vec<Recording>,
    pub other_resource_usage: Vec<ResourceUsage>,
}

impl Weigh for CallSession {
    fn weight(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.core.weight()
            + self.calls.len() * (std::mem::size_of::<Call>() + 64)
            + self.records.len() * (std::mem::size_of::<Recording>() + 96)
            + self.other_resource_usage.len() * (std::mem::size_of::<ResourceUsage>() + 48)
            + [
                &self.application_name,
                &self.rule_name,
                &self.log_file_url,
                &self.custom_data,
                &self.finish_reason,
            ]
            .iter()
            .map(|s| s.as_ref().map_or(0, String::len))
            .sum::<usize>()
    }
}

impl super::paging::Dated for CallSession {
    fn id(&self) -> u64 {
        self.id
    }
    fn at(&self) -> DateTime<Utc> {
        self.core.created_at
    }
}

/// One audit log entry (GetAuditLog / the CSV of an audit report).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditLogEntry {
    pub id: u64,
    pub account_id: Option<u64>,
    pub subuser_id: Option<u64>,
    pub subuser_name: Option<String>,
    pub requested: DateTime<Utc>,
    pub ip: Option<String>,
    pub cmd_name: String,
    /// Free-form ("may be masked or resolved").
    pub cmd_args: Value,
    pub cmd_result: Value,
}

impl super::paging::Dated for AuditLogEntry {
    fn id(&self) -> u64 {
        self.id
    }
    fn at(&self) -> DateTime<Utc> {
        self.requested
    }
}

impl Weigh for AuditLogEntry {
    fn weight(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.cmd_name.len()
            + self.ip.as_ref().map_or(0, String::len)
            + self.cmd_args.to_string().len()
            + self.cmd_result.to_string().len()
    }
}

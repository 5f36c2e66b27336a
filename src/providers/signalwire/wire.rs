//! SignalWire's JSON as it arrives (providers.md §1). Private to the provider: every
//! field optional here, and `mapping` enforces what the spec says is required, so a
//! missing field becomes a clear `UPSTREAM_BAD_RESPONSE` instead of a serde message.

use chrono::{DateTime, Utc};

use crate::providers::exact::ExactNumber;
use serde::Deserialize;
use serde_json::Value;

/// Every list: `{"links": {...}, "data": [...]}`.
#[derive(Debug, Deserialize)]
pub(super) struct ListEnvelope<T> {
    #[serde(default)]
    pub links: Links,
    /// The rows: `Vec<Wire>` or `SentRows<Wire>`.
    pub data: T,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct Links {
    /// Absent (or empty) on the last page; absolute or relative.
    pub next: Option<String>,
}

/// `{"data": [...]}` of the events endpoint (no links: not paged).
#[derive(Debug, Deserialize)]
pub(super) struct EventsEnvelope {
    pub data: Vec<LogEventWire>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ChargeDetailWire {
    pub description: String,
    pub charge: ExactNumber,
}

/// `Voice.VoiceLog`: the union of every variant, discriminated in `mapping`.
#[derive(Debug, Deserialize)]
pub(super) struct VoiceLogWire {
    pub id: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub source: Option<String>,
    pub charge: Option<ExactNumber>,
    pub charge_details: Option<Vec<ChargeDetailWire>>,
    pub created_at: Option<DateTime<Utc>>,
    #[serde(rename = "type")]
    pub log_type: Option<String>,
    pub url: Option<String>,
    pub direction: Option<String>,
    pub status: Option<String>,
    pub duration: Option<i64>,
    pub duration_ms: Option<i64>,
    pub billing_ms: Option<i64>,
    pub parent_id: Option<String>,
    pub discarded_at: Option<DateTime<Utc>>,
}

/// `Video.VideoLog` = `Video.Log | Video.DiscardedLog`.
#[derive(Debug, Deserialize)]
pub(super) struct VideoLogWire {
    pub id: String,
    pub source: Option<String>,
    #[serde(rename = "type")]
    pub log_type: Option<String>,
    pub url: Option<String>,
    pub room_name: Option<String>,
    pub status: Option<String>,
    pub locked: Option<bool>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub charge: Option<ExactNumber>,
    pub created_at: Option<DateTime<Utc>>,
    pub charge_details: Option<Vec<ChargeDetailWire>>,
    pub discarded_at: Option<DateTime<Utc>>,
}

/// `Voice.LogEvent`; `details` is free-form by the spec's own words.
#[derive(Debug, Deserialize)]
pub(super) struct LogEventWire {
    pub event_at: DateTime<Utc>,
    pub level: String,
    pub name: String,
    #[serde(default)]
    pub details: Value,
    pub project_id: String,
    pub log_id: String,
}

/// 400/401/403/404/500: `{"error": "..."}`; 422: `{"errors": [...]}`.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ErrorBody {
    #[serde(default)]
    pub errors: Vec<ErrorItem>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ErrorItem {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub attribute: Option<String>,
}

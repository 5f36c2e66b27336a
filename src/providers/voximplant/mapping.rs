//! Wire -> domain for Voximplant: timestamps, exact money, and the rules that derive the
//! `CallLog` fields of a session from its calls and finish reason (also stated in the
//! schema descriptions).

use chrono::{DateTime, NaiveDateTime, Utc};

use super::model::{AuditLogEntry, Call, CallSession, Recording, ResourceUsage};
use super::wire::{AuditLogWire, CallSessionWire, CallWire, RecordWire, ResourceUsageWire};
use crate::providers::exact::ExactNumber;
use rust_decimal::Decimal;

use crate::domain::{CallDirection, CallLogCore, CallStatus, Money, Provider, time};

/// A payload the gateway cannot use.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{0}")]
pub(super) struct MappingError(String);

/// Voximplant's `YYYY-MM-DD HH:mm:ss`, read as UTC (the gateway asks in UTC).
pub(super) fn timestamp(raw: &str) -> Result<DateTime<Utc>, MappingError> {
    NaiveDateTime::parse_from_str(raw.trim(), "%Y-%m-%d %H:%M:%S")
        .map(|t| t.and_utc())
        .ok()
        .filter(|t| time::in_range(*t))
        .ok_or_else(|| {
            MappingError(format!(
                "not a YYYY-MM-DD HH:mm:ss timestamp from 1970 to 9999: {raw:?}"
            ))
        })
}

/// The format requests use.
pub(super) fn format_timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn money(value: Option<ExactNumber>, currency: &'static str) -> Result<Option<Money>, MappingError> {
    Ok(value.map(|v| Money::new(v.0, currency)))
}

/// Normalized status of a session (see the `VoximplantCallSession` description).
pub(super) fn status(finish_reason: Option<&str>, calls: &[Call]) -> CallStatus {
    match finish_reason {
        None => CallStatus::InProgress,
        Some("Normal termination") if calls.is_empty() || calls.iter().any(|c| c.successful) => CallStatus::Completed,
        Some("Normal termination") => CallStatus::NoAnswer,
        Some(_) => CallStatus::Failed,
    }
}

fn call(w: CallWire, currency: &'static str) -> Result<Call, MappingError> {
    Ok(Call {
        call_id: w.call_id,
        start_time: timestamp(&w.start_time)?,
        diversion_number: w.diversion_number,
        duration_seconds: w.duration,
        local_number: w.local_number,
        remote_number: w.remote_number,
        remote_number_type: w.remote_number_type,
        incoming: w.incoming.unwrap_or(false),
        successful: w.successful.unwrap_or(false),
        transaction_id: w.transaction_id,
        record_url: w.record_url,
        media_server_address: w.media_server_address,
        cost: money(w.cost, currency)?,
        custom_data: w.custom_data,
        end_reason: w.end_reason,
    })
}

fn recording(w: RecordWire, currency: &'static str) -> Result<Recording, MappingError> {
    Ok(Recording {
        record_id: w.record_id,
        record_name: w.record_name,
        cost: money(w.cost, currency)?,
        start_time: timestamp(&w.start_time)?,
        duration_seconds: w.duration,
        record_url: w.record_url,
        transaction_id: w.transaction_id,
        file_size: w.file_size,
        transcription_url: w.transcription_url,
        transcription_status: w.transcription_status,
    })
}

fn usage(w: ResourceUsageWire, currency: &'static str) -> Result<ResourceUsage, MappingError> {
    Ok(ResourceUsage {
        resource_usage_id: w.resource_usage_id,
        resource_type: w.resource_type,
        cost: money(w.cost, currency)?,
        description: w.description,
        used_at: timestamp(&w.used_at)?,
        transaction_id: w.transaction_id,
        resource_quantity: w.resource_quantity,
        unit: w.unit,
        ref_call_id: w.ref_call_id,
    })
}

/// Converts one session; `currency` is the account currency from config.
pub(super) fn session(w: CallSessionWire, currency: &'static str) -> Result<CallSession, MappingError> {
    let start = timestamp(&w.start_date)?;
    let calls = w
        .calls
        .unwrap_or_default()
        .into_iter()
        .map(|c| call(c, currency))
        .collect::<Result<Vec<_>, _>>()?;
    let records = w
        .records
        .unwrap_or_default()
        .into_iter()
        .map(|r| recording(r, currency))
        .collect::<Result<Vec<_>, _>>()?;
    let other = w
        .other_resource_usage
        .unwrap_or_default()
        .into_iter()
        .map(|u| usage(u, currency))
        .collect::<Result<Vec<_>, _>>()?;
    let costs: Vec<&Money> = calls
        .iter()
        .filter_map(|c| c.cost.as_ref())
        .chain(records.iter().filter_map(|r| r.cost.as_ref()))
        .chain(other.iter().filter_map(|u| u.cost.as_ref()))
        .collect();
    let cost = match costs.is_empty() {
        true => None,
        false => Some(Money::new(
            costs
                .iter()
                .try_fold(Decimal::ZERO, |sum, m| sum.checked_add(m.amount))
                .ok_or_else(|| MappingError("the session's costs add up past the decimal range".into()))?,
            currency,
        )),
    };
    let first = calls.first();
    let (from, to, direction) = match first {
        Some(c) if c.incoming => (c.remote_number.clone(), c.local_number.clone(), CallDirection::Inbound),
        Some(c) => (c.local_number.clone(), c.remote_number.clone(), CallDirection::Outbound),
        None => (None, None, CallDirection::Unknown),
    };
    Ok(CallSession {
        core: CallLogCore {
            provider: Provider::Voximplant,
            native_id: w.call_session_history_id.to_string(),
            from,
            to,
            direction,
            status: status(w.finish_reason.as_deref(), &calls),
            provider_status: w.finish_reason.clone(),
            created_at: start,
            started_at: Some(start),
            ended_at: w
                .duration
                .map(|d| {
                    time::after_seconds(start, d).ok_or_else(|| MappingError(format!("duration {d} s ends past 9999")))
                })
                .transpose()?,
            duration_seconds: w.duration,
            cost,
        },
        id: w.call_session_history_id,
        account_id: w.account_id,
        application_id: w.application_id,
        application_name: w.application_name,
        user_id: w.user_id,
        rule_name: w.rule_name,
        audio_quality: w.audio_quality,
        initiator_address: w.initiator_address,
        media_server_address: w.media_server_address,
        log_file_url: w.log_file_url,
        finish_reason: w.finish_reason,
        custom_data: w.custom_data,
        calls,
        records,
        other_resource_usage: other,
    })
}

/// Converts one audit log entry.
pub(super) fn audit_entry(w: AuditLogWire) -> Result<AuditLogEntry, MappingError> {
    Ok(AuditLogEntry {
        id: w.audit_log_id,
        account_id: w.account_id,
        subuser_id: w.subuser_id,
        subuser_name: w.subuser_name,
        requested: timestamp(&w.requested)?,
        ip: w.ip,
        cmd_name: w.cmd_name,
        cmd_args: w.cmd_args.unwrap_or(serde_json::Value::Null),
        cmd_result: w.cmd_result.unwrap_or(serde_json::Value::Null),
    })
}

#[cfg(test)]
mod tests {
    use super::super::wire::Envelope;
    use super::*;

    #[test]
    fn a_documented_call_history_answer_decodes_exactly() {
        let env: Envelope<Vec<CallSessionWire>> =
            serde_json::from_str(include_str!("../../../tests/fixtures/voximplant/get-call-history.json")).unwrap();
        assert_eq!(env.total_count, Some(2));
        let mut sessions = env.result.unwrap().into_iter().map(|w| session(w, "USD").unwrap());
        let s = sessions.next().unwrap();
        assert_eq!(s.id, 2_345_678_901);
        assert_eq!(s.core.native_id, "2345678901");
        assert_eq!(s.core.created_at.to_rfc3339(), "2024-05-29T15:05:26+00:00");
        assert_eq!(s.core.ended_at.unwrap().to_rfc3339(), "2024-05-29T15:06:08+00:00");
        assert_eq!(s.core.duration_seconds, Some(42));
        assert_eq!(s.application_name.as_deref(), Some("support.acme.voximplant.com"));
        assert_eq!(s.rule_name.as_deref(), Some("inbound"));
        assert_eq!(s.audio_quality.as_deref(), Some("HD"));
        assert_eq!(s.core.direction, CallDirection::Inbound);
        assert_eq!(s.core.from.as_deref(), Some("+15550001111"));
        assert_eq!(s.core.to.as_deref(), Some("+15559990000"));
        assert_eq!(s.core.status, CallStatus::Completed);
        assert_eq!(s.core.provider_status.as_deref(), Some("Normal termination"));
        assert_eq!(s.calls.len(), 2);
        assert_eq!(s.calls[0].cost.as_ref().unwrap().amount.to_string(), "0.0123");
        assert_eq!(s.calls[0].end_reason.as_ref().unwrap()["code"], 200);
        assert_eq!(s.records[0].transcription_status.as_deref(), Some("Complete"));
        assert_eq!(s.other_resource_usage[0].resource_type, "ASR");
        assert_eq!(
            s.core.cost.as_ref().unwrap().amount.to_string(),
            "0.0473",
            "calls + records + other usage"
        );
        let failed = sessions.next().unwrap();
        assert_eq!(failed.core.status, CallStatus::Failed);
        assert_eq!(failed.core.direction, CallDirection::Outbound);
        assert_eq!(failed.core.from.as_deref(), Some("+15559990000"));
        assert_eq!(failed.core.cost, None);
    }

    fn first_documented_session() -> CallSessionWire {
        let env: Envelope<Vec<CallSessionWire>> =
            serde_json::from_str(include_str!("../../../tests/fixtures/voximplant/get-call-history.json")).unwrap();
        env.result.unwrap().remove(0)
    }

    #[test]
    fn out_of_range_dates_durations_and_costs_are_bad_records_not_panics() {
        assert!(timestamp("262142-12-31 23:59:59").is_err());
        assert!(timestamp("1969-12-31 23:59:59").is_err());
        assert!(timestamp("9999-12-31 23:59:59").is_ok());
        for duration in [i64::MAX, i64::MIN, 9_000_000_000_000] {
            let mut w = first_documented_session();
            w.start_date = "9999-12-31 23:00:00".into();
            w.duration = Some(duration);
            assert!(session(w, "USD").is_err(), "{duration}");
        }
        let mut w = first_documented_session();
        let calls = w.calls.as_mut().unwrap();
        let mut big = calls[0].clone();
        big.cost = Some(ExactNumber(Decimal::MAX));
        calls.push(big.clone());
        calls.push(big);
        assert!(session(w, "USD").is_err(), "costs past the decimal range");
    }

    #[test]
    fn the_documented_audit_log_item_decodes_exactly() {
        let w: AuditLogWire = serde_json::from_str(
            r#"{"audit_log_id":58,"account_id":1,"requested":"2018-02-04 19:35:13","ip":"192.168.0.12","cmd_name":"AddSkill","cmd_args":{"skill_name":"manager"},"cmd_result":{"skill_id":152}}"#,
        )
        .unwrap();
        let e = audit_entry(w).unwrap();
        assert_eq!((e.id, e.account_id), (58, Some(1)));
        assert_eq!(e.requested.to_rfc3339(), "2018-02-04T19:35:13+00:00");
        assert_eq!(e.ip.as_deref(), Some("192.168.0.12"));
        assert_eq!(e.cmd_name, "AddSkill");
        assert_eq!(e.cmd_args["skill_name"], "manager");
        assert_eq!(e.cmd_result["skill_id"], 152);
        assert_eq!((e.subuser_id, e.subuser_name), (None, None));
    }

    #[test]
    fn statuses_follow_the_documented_rules() {
        assert_eq!(status(None, &[]), CallStatus::InProgress);
        assert_eq!(status(Some("Normal termination"), &[]), CallStatus::Completed);
        assert_eq!(status(Some("Timeout"), &[]), CallStatus::Failed);
    }
}

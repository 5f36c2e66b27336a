//! Wire -> domain for SignalWire: variant discrimination (on `type`, and on its absence
//! plus `discarded_at`), required-field checks, status/direction normalization, dollars
//! to exact `Money`.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::model::*;
use super::wire::{ChargeDetailWire, LogEventWire, VideoLogWire, VoiceLogWire};
use crate::domain::{CallDirection, CallLogCore, CallStatus, Money, NodeKind, Provider, time};
use crate::providers::exact::ExactNumber;

/// A payload that breaks the documented schema.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{0}")]
pub(super) struct MappingError(String);

const CURRENCY: &str = "USD";

fn required<T>(value: Option<T>, id: &str, field: &str) -> Result<T, MappingError> {
    value.ok_or_else(|| MappingError(format!("log {id}: required field `{field}` is missing")))
}

/// `created_at`, which orders every listing and cursor: present and inside 1970..9999.
fn created(value: Option<DateTime<Utc>>, id: &str) -> Result<DateTime<Utc>, MappingError> {
    let t = required(value, id, "created_at")?;
    match time::in_range(t) {
        true => Ok(t),
        false => Err(MappingError(format!("log {id}: created_at {t} is outside 1970..9999"))),
    }
}

fn money(value: ExactNumber, _id: &str) -> Result<Money, MappingError> {
    Ok(Money::new(value.0, CURRENCY))
}

fn charge_details(details: Vec<ChargeDetailWire>, id: &str) -> Result<Vec<ChargeDetail>, MappingError> {
    details
        .into_iter()
        .map(|d| {
            Ok(ChargeDetail {
                description: d.description,
                charge: money(d.charge, id)?,
            })
        })
        .collect()
}

/// Voice `status` -> normalized status.
pub(super) fn voice_status(raw: Option<&str>) -> CallStatus {
    match raw {
        Some("queued" | "initiated" | "created") => CallStatus::Queued,
        Some("ringing") => CallStatus::Ringing,
        Some("in-progress" | "answered" | "joined" | "ending") => CallStatus::InProgress,
        Some("completed" | "ended") => CallStatus::Completed,
        Some("busy") => CallStatus::Busy,
        Some("failed") => CallStatus::Failed,
        Some("no-answer") => CallStatus::NoAnswer,
        Some("canceled") => CallStatus::Canceled,
        _ => CallStatus::Unknown,
    }
}

/// Voice `direction` -> normalized direction (`outbound-api`/`outbound-dial` are outbound).
pub(super) fn voice_direction(raw: Option<&str>) -> CallDirection {
    match raw {
        Some("inbound") => CallDirection::Inbound,
        Some("outbound" | "outbound-api" | "outbound-dial") => CallDirection::Outbound,
        _ => CallDirection::Unknown,
    }
}

fn voice_source(raw: &str) -> VoiceSource {
    match raw {
        "dialogflow" => VoiceSource::Dialogflow,
        "laml" => VoiceSource::Laml,
        "realtime_api" => VoiceSource::RealtimeApi,
        other => VoiceSource::Other(other.to_string()),
    }
}

fn voice_type(raw: &str) -> VoiceType {
    match raw {
        "dialogflow_call" => VoiceType::DialogflowCall,
        "laml_call" => VoiceType::LamlCall,
        "relay_pstn_call" => VoiceType::RelayPstnCall,
        "relay_sip_call" => VoiceType::RelaySipCall,
        "relay_webrtc_call" => VoiceType::RelayWebrtcCall,
        "video_room_pstn_leg" => VoiceType::VideoRoomPstnLeg,
        "video_room_sip_leg" => VoiceType::VideoRoomSipLeg,
        "fabric_subscriber_device_leg" => VoiceType::FabricSubscriberDeviceLeg,
        other => VoiceType::Other(other.to_string()),
    }
}

fn discarded(
    kind: NodeKind,
    id: String,
    created_at: Option<DateTime<Utc>>,
    discarded_at: DateTime<Utc>,
) -> Result<DiscardedLog, MappingError> {
    let created_at = created(created_at, &id)?;
    Ok(DiscardedLog {
        kind,
        discarded_at,
        core: CallLogCore {
            provider: Provider::SignalWire,
            native_id: id,
            from: None,
            to: None,
            direction: CallDirection::Unknown,
            status: CallStatus::Deleted,
            provider_status: None,
            created_at,
            started_at: None,
            ended_at: None,
            duration_seconds: None,
            cost: None,
        },
    })
}

impl TryFrom<VoiceLogWire> for VoiceLog {
    type Error = MappingError;

    fn try_from(w: VoiceLogWire) -> Result<Self, MappingError> {
        let Some(raw_type) = w.log_type else {
            let discarded_at = w
                .discarded_at
                .ok_or_else(|| MappingError(format!("voice log {}: neither `type` nor `discarded_at`", w.id)))?;
            return Ok(VoiceLog::Discarded(Arc::new(discarded(
                super::VOICE_LOG,
                w.id,
                w.created_at,
                discarded_at,
            )?)));
        };
        let id = w.id;
        let raw_source = required(w.source, &id, "source")?;
        let cost = money(required(w.charge, &id, "charge")?, &id)?;
        let charge_details = charge_details(required(w.charge_details, &id, "charge_details")?, &id)?;
        let created_at = created(w.created_at, &id)?;
        let from = required(w.from, &id, "from")?;
        let to = required(w.to, &id, "to")?;
        let duration_seconds = w.duration.or(w.duration_ms.map(|ms| ms / 1000));
        Ok(VoiceLog::Call(Arc::new(VoiceCall {
            core: CallLogCore {
                provider: Provider::SignalWire,
                from: Some(from),
                to: Some(to),
                direction: voice_direction(w.direction.as_deref()),
                status: voice_status(w.status.as_deref()),
                provider_status: w.status,
                created_at,
                started_at: None,
                ended_at: None,
                duration_seconds,
                cost: Some(cost),
                native_id: id,
            },
            source: voice_source(&raw_source),
            raw_source,
            voice_type: voice_type(&raw_type),
            raw_type,
            url: w.url,
            raw_direction: w.direction,
            duration_ms: w.duration_ms,
            billing_ms: w.billing_ms,
            parent_id: w.parent_id,
            charge_details,
        })))
    }
}

impl TryFrom<VideoLogWire> for VideoLog {
    type Error = MappingError;

    fn try_from(w: VideoLogWire) -> Result<Self, MappingError> {
        let Some(raw_type) = w.log_type else {
            let discarded_at = w
                .discarded_at
                .ok_or_else(|| MappingError(format!("video log {}: neither `type` nor `discarded_at`", w.id)))?;
            return Ok(VideoLog::Discarded(Arc::new(discarded(
                super::VIDEO_LOG,
                w.id,
                w.created_at,
                discarded_at,
            )?)));
        };
        let id = w.id;
        let source = required(w.source, &id, "source")?;
        let cost = money(required(w.charge, &id, "charge")?, &id)?;
        let charge_details = charge_details(required(w.charge_details, &id, "charge_details")?, &id)?;
        let created_at = created(w.created_at, &id)?;
        let url = required(w.url, &id, "url")?;
        let locked = required(w.locked, &id, "locked")?;
        let status = match w.status.as_deref() {
            Some("in-progress") => CallStatus::InProgress,
            Some("completed") => CallStatus::Completed,
            _ => CallStatus::Unknown,
        };
        let duration_seconds = match (w.started_at, w.ended_at) {
            (Some(start), Some(end)) if end >= start => Some((end - start).num_seconds()),
            _ => None,
        };
        let video_type = match raw_type.as_str() {
            "video_room_session" => VideoType::RoomSession,
            "video_conference_session" => VideoType::ConferenceSession,
            other => VideoType::Other(other.to_string()),
        };
        Ok(VideoLog::Session(Arc::new(VideoSession {
            core: CallLogCore {
                provider: Provider::SignalWire,
                from: None,
                to: None,
                direction: CallDirection::Unknown,
                status,
                provider_status: w.status,
                created_at,
                started_at: w.started_at,
                ended_at: w.ended_at,
                duration_seconds,
                cost: Some(cost),
                native_id: id,
            },
            source,
            video_type,
            raw_type,
            url,
            room_name: w.room_name,
            locked,
            charge_details,
        })))
    }
}

impl From<LogEventWire> for VoiceLogEvent {
    fn from(w: LogEventWire) -> Self {
        let level = match w.level.as_str() {
            "info" => EventLevel::Info,
            "warn" | "warning" => EventLevel::Warn,
            "error" => EventLevel::Error,
            "debug" => EventLevel::Debug,
            other => EventLevel::Other(other.to_string()),
        };
        VoiceLogEvent {
            event_at: w.event_at,
            level,
            raw_level: w.level,
            name: w.name,
            details: w.details,
            project_id: w.project_id,
            log_id: w.log_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::wire::{EventsEnvelope, ListEnvelope};
    use super::*;

    fn voice_page(json: &str) -> (Vec<VoiceLog>, Option<String>) {
        let env: ListEnvelope<Vec<VoiceLogWire>> = serde_json::from_str(json).unwrap();
        let items = env.data.into_iter().map(|w| VoiceLog::try_from(w).unwrap()).collect();
        (items, env.links.next)
    }

    #[test]
    fn a_created_at_outside_1970_to_9999_is_a_bad_record() {
        let mut json: serde_json::Value =
            serde_json::from_str(include_str!("../../../tests/fixtures/signalwire/list-voice-logs.json")).unwrap();
        for t in ["+262142-12-31T23:59:59Z", "1969-12-31T23:59:59Z"] {
            json["data"][0]["created_at"] = serde_json::json!(t);
            let w: VoiceLogWire = serde_json::from_value(json["data"][0].clone()).unwrap();
            assert!(VoiceLog::try_from(w).is_err(), "{t}");
        }
    }

    #[test]
    fn seed_voice_log_list_decodes_exactly() {
        let (items, next) = voice_page(include_str!("../../../tests/fixtures/signalwire/list-voice-logs.json"));
        assert_eq!(
            next.as_deref(),
            Some(
                "https://example.signalwire.com/api/voice/logs?page_number=1&page_size=50&page_token=PA2fa20774-64a1-41d3-a88a-1c61f563d0e7"
            )
        );
        let VoiceLog::Call(call) = &items[0] else {
            panic!("expected a call")
        };
        assert_eq!(call.core.native_id, "b7182dc2-00f3-40e4-a5ce-20f164b329df");
        assert_eq!(call.core.from.as_deref(), Some("+12065551212"));
        assert_eq!(call.core.to.as_deref(), Some("+12065553434"));
        assert_eq!(call.source, VoiceSource::RealtimeApi);
        assert_eq!(call.core.cost.as_ref().unwrap().amount.to_string(), "0.01");
        assert_eq!(call.core.cost.as_ref().unwrap().currency, "USD");
        assert!(call.charge_details.is_empty());
        assert_eq!(call.core.created_at.to_rfc3339(), "2024-05-06T12:20:00+00:00");
        assert_eq!(call.voice_type, VoiceType::RelaySipCall);
        assert_eq!(call.url, None);
        assert_eq!(call.core.direction, CallDirection::Inbound);
        assert_eq!(call.core.status, CallStatus::Completed);
        assert_eq!(call.core.provider_status.as_deref(), Some("completed"));
        assert_eq!(call.core.duration_seconds, Some(9));
        assert_eq!(call.duration_ms, Some(9638));
        assert_eq!(call.billing_ms, Some(60000));
        assert_eq!(call.parent_id, None);
    }

    #[test]
    fn seed_video_log_list_decodes_exactly() {
        let env: ListEnvelope<Vec<VideoLogWire>> =
            serde_json::from_str(include_str!("../../../tests/fixtures/signalwire/list-video-logs.json")).unwrap();
        assert_eq!(
            env.links.next.as_deref(),
            Some("https://example.signalwire.com/api/video/rooms?page=3")
        );
        let VideoLog::Session(s) = VideoLog::try_from(env.data.into_iter().next().unwrap()).unwrap() else {
            panic!("expected a session")
        };
        assert_eq!(s.core.native_id, "c22d24f6-5a47-4597-9a23-c7d01e696b92");
        assert_eq!(s.source, "realtime_api");
        assert_eq!(s.video_type, VideoType::ConferenceSession);
        assert_eq!(
            s.url,
            "https://example.signalwire.com/api/video/room_sessions/a1b2c3d4-5e6f-7890-abcd-ef1234567890"
        );
        assert_eq!(s.room_name.as_deref(), Some("my_room"));
        assert_eq!(s.core.status, CallStatus::Completed);
        assert!(!s.locked);
        assert_eq!(s.core.duration_seconds, Some(3600));
        assert_eq!(s.core.cost.as_ref().unwrap().amount.to_string(), "0.01");
        assert_eq!(s.charge_details[0].description, "Video conference session charge");
        assert_eq!(s.charge_details[0].charge.amount.to_string(), "0.005");
    }

    #[test]
    fn every_voice_variant_of_the_get_voice_log_spec_decodes() {
        let (items, _) = voice_page(include_str!(
            "../../../tests/fixtures/signalwire/voice-log-variants.json"
        ));
        let kinds: Vec<_> = items
            .iter()
            .map(|l| match l {
                VoiceLog::Call(c) => format!("{:?}/{:?}/{:?}", c.voice_type, c.core.direction, c.core.status),
                VoiceLog::Discarded(d) => format!("discarded/{:?}", d.core.status),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "LamlCall/Outbound/Completed",
                "VideoRoomPstnLeg/Inbound/InProgress",
                "DialogflowCall/Unknown/Completed",
                "FabricSubscriberDeviceLeg/Outbound/Unknown",
                "discarded/Deleted",
                "Other(\"hologram_call\")/Unknown/Unknown",
            ]
        );
        let VoiceLog::Call(unknown) = &items[5] else { panic!() };
        assert_eq!(unknown.raw_type, "hologram_call");
        assert_eq!(unknown.core.provider_status.as_deref(), Some("teleporting"));
        let VoiceLog::Discarded(d) = &items[4] else { panic!() };
        assert_eq!(d.discarded_at.to_rfc3339(), "2024-05-07T08:00:00+00:00");
    }

    #[test]
    fn events_accept_warn_and_warning_and_free_form_details() {
        let env: EventsEnvelope =
            serde_json::from_str(include_str!("../../../tests/fixtures/signalwire/voice-log-events.json")).unwrap();
        let events: Vec<VoiceLogEvent> = env.data.into_iter().map(Into::into).collect();
        assert_eq!(events[0].level, EventLevel::Info);
        assert_eq!(events[0].name, "calling_call_initiated");
        assert_eq!(events[0].details["nested"]["a"], 1);
        assert_eq!(events[1].level, EventLevel::Warn);
        assert_eq!(events[2].level, EventLevel::Warn);
        assert_eq!(events[2].raw_level, "warning");
    }

    #[test]
    fn a_call_missing_a_required_field_is_a_mapping_error() {
        let w: VoiceLogWire = serde_json::from_str(
            r#"{"id":"b7182dc2-00f3-40e4-a5ce-20f164b329df","type":"laml_call","source":"laml","charge":0,"charge_details":[],"created_at":"2024-05-06T12:20:00Z","to":"+1"}"#,
        )
        .unwrap();
        let err = VoiceLog::try_from(w).unwrap_err();
        assert!(err.0.contains("`from`"), "{err}");
    }

    #[test]
    fn a_long_decimal_charge_arrives_exactly() {
        let w: VoiceLogWire = serde_json::from_str(
            r#"{"id":"b7182dc2-00f3-40e4-a5ce-20f164b329df","type":"laml_call","source":"laml","charge":25043790.512862742,"charge_details":[{"description":"x","charge":0.1000000000000000055511151231257827}],"created_at":"2024-05-06T12:20:00Z","from":"+2","to":"+1","direction":"inbound","status":"completed"}"#,
        )
        .unwrap();
        let VoiceLog::Call(call) = VoiceLog::try_from(w).unwrap() else {
            panic!("a call")
        };
        assert_eq!(
            call.core.cost.as_ref().unwrap().amount.to_string(),
            "25043790.512862742"
        );
        assert_eq!(
            call.charge_details[0].charge.amount.to_string(),
            "0.1000000000000000055511151231"
        );
    }
}

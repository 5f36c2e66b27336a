//! SignalWire's records as domain values: every documented field, typed, with the
//! normalized `CallLogCore` alongside. Unknown enum values are kept raw (`Other`).

use serde::{Deserialize, Serialize};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::cache::{Weigh, opt_len};
use crate::domain::{CallLogCore, Money, NodeKind};

/// `source` of a voice log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum VoiceSource {
    Dialogflow,
    Laml,
    RealtimeApi,
    Other(String),
}

/// `type` of a voice log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum VoiceType {
    DialogflowCall,
    LamlCall,
    RelayPstnCall,
    RelaySipCall,
    RelayWebrtcCall,
    VideoRoomPstnLeg,
    VideoRoomSipLeg,
    FabricSubscriberDeviceLeg,
    Other(String),
}

/// `type` of a video log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum VideoType {
    RoomSession,
    ConferenceSession,
    Other(String),
}

/// `level` of a voice log event (`warning` from older specs reads as `Warn`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventLevel {
    Info,
    Warn,
    Error,
    Debug,
    Other(String),
}

/// One line of `charge_details`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChargeDetail {
    pub description: String,
    pub charge: Money,
}

/// A voice log: a call leg, or a deleted log (only with `include_deleted`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum VoiceLog {
    Call(Arc<VoiceCall>),
    Discarded(Arc<DiscardedLog>),
}

/// A voice log that still exists (Relay/LAML, video room leg, Dialogflow, Fabric, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VoiceCall {
    pub core: CallLogCore,
    pub source: VoiceSource,
    pub raw_source: String,
    pub voice_type: VoiceType,
    pub raw_type: String,
    pub url: Option<String>,
    /// The raw `direction` (absent for Dialogflow).
    pub raw_direction: Option<String>,
    pub duration_ms: Option<i64>,
    pub billing_ms: Option<i64>,
    pub parent_id: Option<String>,
    pub charge_details: Vec<ChargeDetail>,
}

/// A video log: a room or conference session, or a deleted log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum VideoLog {
    Session(Arc<VideoSession>),
    Discarded(Arc<DiscardedLog>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoSession {
    pub core: CallLogCore,
    pub source: String,
    pub video_type: VideoType,
    pub raw_type: String,
    pub url: String,
    pub room_name: Option<String>,
    pub locked: bool,
    pub charge_details: Vec<ChargeDetail>,
}

/// A deleted log: SignalWire keeps only its id and two timestamps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiscardedLog {
    /// The collection it was deleted from (its global id kind).
    #[serde(with = "collection")]
    pub kind: NodeKind,
    pub core: CallLogCore,
    pub discarded_at: DateTime<Utc>,
}

/// `DiscardedLog::kind` as its tag: one of the two collections a log is deleted from.
mod collection {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serializer};

    use super::super::{VIDEO_LOG, VOICE_LOG};
    use crate::domain::NodeKind;

    pub(super) fn serialize<S: Serializer>(kind: &NodeKind, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(kind.tag())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NodeKind, D::Error> {
        let tag = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        [VOICE_LOG, VIDEO_LOG]
            .into_iter()
            .find(|k| k.tag() == tag)
            .ok_or_else(|| D::Error::custom(format!("not a SignalWire log collection: {tag:?}")))
    }
}

/// One entry of `/api/voice/logs/{id}/events`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VoiceLogEvent {
    pub event_at: DateTime<Utc>,
    pub level: EventLevel,
    pub raw_level: String,
    pub name: String,
    /// Free-form by the provider's own documentation.
    pub details: Value,
    pub project_id: String,
    pub log_id: String,
}

impl VoiceLog {
    pub fn core(&self) -> &CallLogCore {
        match self {
            VoiceLog::Call(c) => &c.core,
            VoiceLog::Discarded(d) => &d.core,
        }
    }
}

impl VideoLog {
    pub fn core(&self) -> &CallLogCore {
        match self {
            VideoLog::Session(s) => &s.core,
            VideoLog::Discarded(d) => &d.core,
        }
    }
}

impl crate::providers::signalwire::paging::Keyed for VoiceLog {
    fn key(&self) -> &str {
        &self.core().native_id
    }
    fn created_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.core().created_at
    }
}

impl crate::providers::signalwire::paging::Keyed for VideoLog {
    fn key(&self) -> &str {
        &self.core().native_id
    }
    fn created_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.core().created_at
    }
}

fn charges_weight(details: &[ChargeDetail]) -> usize {
    details
        .iter()
        .map(|d| std::mem::size_of::<ChargeDetail>() + d.description.len())
        .sum()
}

impl Weigh for VoiceLog {
    fn weight(&self) -> usize {
        match self {
            VoiceLog::Call(c) => {
                std::mem::size_of::<VoiceCall>()
                    + c.core.weight()
                    + c.raw_source.len()
                    + c.raw_type.len()
                    + opt_len(&c.url)
                    + opt_len(&c.raw_direction)
                    + opt_len(&c.parent_id)
                    + charges_weight(&c.charge_details)
            }
            VoiceLog::Discarded(d) => std::mem::size_of::<DiscardedLog>() + d.core.weight(),
        }
    }
}

impl Weigh for VideoLog {
    fn weight(&self) -> usize {
        match self {
            VideoLog::Session(s) => {
                std::mem::size_of::<VideoSession>()
                    + s.core.weight()
                    + s.source.len()
                    + s.raw_type.len()
                    + s.url.len()
                    + opt_len(&s.room_name)
                    + charges_weight(&s.charge_details)
            }
            VideoLog::Discarded(d) => std::mem::size_of::<DiscardedLog>() + d.core.weight(),
        }
    }
}

impl Weigh for VoiceLogEvent {
    fn weight(&self) -> usize {
        // `details` is small free-form JSON; its rendered size is a fair estimate.
        std::mem::size_of::<Self>()
            + self.name.len()
            + self.raw_level.len()
            + self.project_id.len()
            + self.log_id.len()
            + self.details.to_string().len()
    }
}

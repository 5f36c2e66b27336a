//! Global object ids (Relay): an opaque string that decodes to a node kind (which implies
//! the provider) and the provider's native id.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::Provider;

/// Every kind of node the gateway can fetch by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeKind {
    SignalWireVoiceLog,
    SignalWireVideoLog,
    OneUptimeCallLog,
    /// Native part: `session_id@unix_start` (GetCallHistory needs a date window).
    VoximplantCallSession,
    /// Native part: `audit_log_id@unix_requested`.
    VoximplantAuditLogEntry,
    /// Native part: `history_report_id`.
    VoximplantHistoryReport,
}

impl NodeKind {
    const ALL: [NodeKind; 6] = [
        NodeKind::SignalWireVoiceLog,
        NodeKind::SignalWireVideoLog,
        NodeKind::OneUptimeCallLog,
        NodeKind::VoximplantCallSession,
        NodeKind::VoximplantAuditLogEntry,
        NodeKind::VoximplantHistoryReport,
    ];

    fn tag(self) -> &'static str {
        match self {
            NodeKind::SignalWireVoiceLog => "SignalWireVoiceLog",
            NodeKind::SignalWireVideoLog => "SignalWireVideoLog",
            NodeKind::OneUptimeCallLog => "OneUptimeCallLog",
            NodeKind::VoximplantCallSession => "VoximplantCallSession",
            NodeKind::VoximplantAuditLogEntry => "VoximplantAuditLogEntry",
            NodeKind::VoximplantHistoryReport => "VoximplantHistoryReport",
        }
    }

    pub fn provider(self) -> Provider {
        match self {
            NodeKind::SignalWireVoiceLog | NodeKind::SignalWireVideoLog => Provider::SignalWire,
            NodeKind::OneUptimeCallLog => Provider::OneUptime,
            NodeKind::VoximplantCallSession | NodeKind::VoximplantAuditLogEntry | NodeKind::VoximplantHistoryReport => {
                Provider::Voximplant
            }
        }
    }
}

/// A decoded global id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GlobalId {
    pub kind: NodeKind,
    pub native_id: String,
}

/// Why a string is not a global id of this gateway.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdError {
    #[error("the id is not valid base64url")]
    Encoding,
    #[error("the id does not name a known node type")]
    UnknownKind,
    #[error("the id carries no native id")]
    Empty,
}

impl GlobalId {
    pub fn new(kind: NodeKind, native_id: impl Into<String>) -> Self {
        GlobalId {
            kind,
            native_id: native_id.into(),
        }
    }

    /// Opaque form: base64url of `Kind:native`.
    pub fn encode(&self) -> String {
        encode(self.kind, &self.native_id)
    }

    pub fn decode(id: &str) -> Result<Self, IdError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(id.trim_end_matches('='))
            .map_err(|_| IdError::Encoding)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| IdError::Encoding)?;
        let (tag, native) = text.split_once(':').ok_or(IdError::UnknownKind)?;
        let kind = NodeKind::ALL
            .into_iter()
            .find(|k| k.tag() == tag)
            .ok_or(IdError::UnknownKind)?;
        if native.is_empty() {
            return Err(IdError::Empty);
        }
        Ok(GlobalId::new(kind, native))
    }
}

/// Encodes without building a `GlobalId` first (hot path of every list item).
pub fn encode(kind: NodeKind, native_id: &str) -> String {
    let mut raw = String::with_capacity(kind.tag().len() + 1 + native_id.len());
    raw.push_str(kind.tag());
    raw.push(':');
    raw.push_str(native_id);
    URL_SAFE_NO_PAD.encode(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        let id = GlobalId::new(NodeKind::SignalWireVideoLog, "c22d24f6-5a47-4597-9a23-c7d01e696b92");
        assert_eq!(GlobalId::decode(&id.encode()).unwrap(), id);
    }

    #[test]
    fn garbage_ids_are_rejected() {
        assert_eq!(GlobalId::decode("%%%"), Err(IdError::Encoding));
        assert_eq!(
            GlobalId::decode(&URL_SAFE_NO_PAD.encode("Nope:1")),
            Err(IdError::UnknownKind)
        );
        assert_eq!(
            GlobalId::decode(&URL_SAFE_NO_PAD.encode("SignalWireVoiceLog:")),
            Err(IdError::Empty)
        );
    }
}

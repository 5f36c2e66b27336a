//! Global object ids (Relay): an opaque string that decodes to a node kind (which implies
//! the provider) and the provider's native id.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::Provider;

/// A kind of node: the tag its global ids carry, the provider it comes from, and whether
/// it is a call log. Each provider declares its kinds as constants (e.g.
/// `providers::signalwire::VOICE_LOG`); the GraphQL layer registers who resolves them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NodeKind {
    tag: &'static str,
    provider: Provider,
    call_log: bool,
}

impl NodeKind {
    /// A kind of call log (a `CallLog` in the schema).
    pub const fn call_log(tag: &'static str, provider: Provider) -> Self {
        NodeKind {
            tag,
            provider,
            call_log: true,
        }
    }

    /// A kind of node that is not a call log.
    pub const fn other(tag: &'static str, provider: Provider) -> Self {
        NodeKind {
            tag,
            provider,
            call_log: false,
        }
    }

    /// The tag global ids of this kind start with (the GraphQL type's name).
    pub fn tag(self) -> &'static str {
        self.tag
    }

    pub fn provider(self) -> Provider {
        self.provider
    }

    pub fn is_call_log(self) -> bool {
        self.call_log
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

    /// Decodes `id`; `kind_of` names the kind of a tag (the kinds the gateway knows).
    pub fn decode(id: &str, kind_of: impl Fn(&str) -> Option<NodeKind>) -> Result<Self, IdError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(id.trim_end_matches('='))
            .map_err(|_| IdError::Encoding)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| IdError::Encoding)?;
        let (tag, native) = text.split_once(':').ok_or(IdError::UnknownKind)?;
        let kind = kind_of(tag).ok_or(IdError::UnknownKind)?;
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

    const VIDEO: NodeKind = NodeKind::call_log("SignalWireVideoLog", Provider::SignalWire);
    const VOICE: NodeKind = NodeKind::call_log("SignalWireVoiceLog", Provider::SignalWire);

    fn known(tag: &str) -> Option<NodeKind> {
        [VIDEO, VOICE].into_iter().find(|k| k.tag() == tag)
    }

    #[test]
    fn ids_round_trip() {
        let id = GlobalId::new(VIDEO, "c22d24f6-5a47-4597-9a23-c7d01e696b92");
        assert_eq!(GlobalId::decode(&id.encode(), known).unwrap(), id);
    }

    #[test]
    fn garbage_ids_are_rejected() {
        assert_eq!(GlobalId::decode("%%%", known), Err(IdError::Encoding));
        assert_eq!(
            GlobalId::decode(&URL_SAFE_NO_PAD.encode("Nope:1"), known),
            Err(IdError::UnknownKind)
        );
        assert_eq!(
            GlobalId::decode(&URL_SAFE_NO_PAD.encode("SignalWireVoiceLog:"), known),
            Err(IdError::Empty)
        );
    }
}

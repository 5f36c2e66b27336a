//! Opaque, versioned, signed cursors bound to the query that produced them.
//!
//! A cursor is base64url(MAC || JSON payload). The MAC (HMAC-SHA256, truncated) covers
//! the tenant, the connection name and the canonical filter as well as the payload, so a
//! tampered cursor, or one reused by another tenant or with another filter or connection,
//! fails verification.
//!
//! Connections hold `LazyCursor`s: the MAC is computed only for the cursors a client
//! selects (most queries select `endCursor` alone; signing every edge's cursor was 5% of
//! a page's CPU), and the part every cursor of a page shares (key, tenant, connection,
//! filter) is hashed once per page (`Binding`).

use std::sync::Arc;

use async_graphql::connection::CursorType;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::error::GatewayError;

const VERSION: u8 = 1;
const MAC_LEN: usize = 16;

/// Signs and verifies cursors with the process's cursor key.
#[derive(Clone)]
pub struct CursorCodec {
    key: Arc<[u8]>,
}

#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    v: u8,
    p: T,
}

impl CursorCodec {
    pub fn new(key: &[u8]) -> Self {
        CursorCodec { key: Arc::from(key) }
    }

    fn mac(&self, tenant: &str, connection: &str, filter: &str, payload: &[u8]) -> Hmac<Sha256> {
        let mut mac = self.prefix(tenant, connection, filter);
        mac.update(payload);
        mac
    }

    /// The MAC's state after what every cursor of one binding shares: the key, the tenant,
    /// the connection and the filter.
    fn prefix(&self, tenant: &str, connection: &str, filter: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC accepts keys of any length");
        for part in [
            tenant.as_bytes(),
            b"\0",
            connection.as_bytes(),
            b"\0",
            filter.as_bytes(),
            b"\0",
        ] {
            mac.update(part);
        }
        mac
    }

    /// Encodes `position` for `tenant`'s `connection` under `filter` (a canonical string).
    pub fn encode<T: Serialize>(&self, tenant: &str, connection: &str, filter: &str, position: &T) -> String {
        Self::sign(self.prefix(tenant, connection, filter), position)
    }

    /// A cursor of `position`, signed from a binding's `prefix` state.
    fn sign<T: Serialize>(mut mac: Hmac<Sha256>, position: &T) -> String {
        let payload = serde_json::to_vec(&Envelope {
            v: VERSION,
            p: position,
        })
        .expect("cursor payloads serialize");
        mac.update(&payload);
        let tag = mac.finalize().into_bytes();
        let mut raw = Vec::with_capacity(MAC_LEN + payload.len());
        raw.extend_from_slice(&tag[..MAC_LEN]);
        raw.extend_from_slice(&payload);
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// Decodes a cursor, or says why it cannot be used here (always `BAD_USER_INPUT`).
    pub fn decode<T: DeserializeOwned>(
        &self,
        tenant: &str,
        connection: &str,
        filter: &str,
        cursor: &str,
    ) -> Result<T, GatewayError> {
        let invalid =
            || GatewayError::bad_input("invalid cursor: it was altered or belongs to another query or filter");
        let raw = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
        if raw.len() <= MAC_LEN {
            return Err(invalid());
        }
        let (tag, payload) = raw.split_at(MAC_LEN);
        self.mac(tenant, connection, filter, payload)
            .verify_truncated_left(tag)
            .map_err(|_| invalid())?;
        let envelope: Envelope<T> = serde_json::from_slice(payload).map_err(|_| invalid())?;
        if envelope.v != VERSION {
            return Err(GatewayError::bad_input(
                "cursor from an incompatible gateway version: restart paging",
            ));
        }
        Ok(envelope.p)
    }
}

/// What one connection's cursors are bound to: the tenant, the connection and the
/// canonical filter, with the codec that signs them. The MAC's state after them is
/// computed once, for the first cursor signed, and every other cursor of the page starts
/// from a copy of it.
pub struct Binding {
    codec: CursorCodec,
    tenant: Box<str>,
    connection: &'static str,
    filter: String,
    prefix: std::sync::OnceLock<Hmac<Sha256>>,
}

impl Binding {
    pub fn new(codec: CursorCodec, tenant: &str, connection: &'static str, filter: String) -> Self {
        Binding {
            codec,
            tenant: tenant.into(),
            connection,
            filter,
            prefix: std::sync::OnceLock::new(),
        }
    }

    /// The signed cursor of `position` (as `CursorCodec::encode` signs it).
    fn sign<T: Serialize>(&self, position: &T) -> String {
        let prefix = self
            .prefix
            .get_or_init(|| self.codec.prefix(&self.tenant, self.connection, &self.filter));
        CursorCodec::sign(prefix.clone(), position)
    }
}

/// A position that becomes a signed cursor only when rendered.
#[derive(Clone)]
pub struct LazyCursor<P> {
    binding: Arc<Binding>,
    position: P,
}

impl<P> LazyCursor<P> {
    pub fn new(binding: Arc<Binding>, position: P) -> Self {
        LazyCursor { binding, position }
    }
}

impl<P: Serialize + Send + Sync> CursorType for LazyCursor<P> {
    type Error = &'static str;

    /// Never used: `after` arrives as a string and `PageArgs` decodes it against its
    /// binding.
    fn decode_cursor(_: &str) -> Result<Self, Self::Error> {
        Err("cursors are decoded against their binding by PageArgs")
    }

    fn encode_cursor(&self) -> String {
        self.binding.sign(&self.position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every cursor of a page starts from the binding's shared MAC state, and is the very
    /// cursor the codec signs alone.
    #[test]
    fn cursors_of_one_binding_are_the_codecs_cursors() {
        let codec = CursorCodec::new(b"k");
        let binding = Arc::new(Binding::new(codec.clone(), "t", "voice", "f=1".into()));
        for position in [(3u32, "page".to_string()), (4, "page".into()), (0, "other".into())] {
            let cursor = LazyCursor::new(binding.clone(), position.clone()).encode_cursor();
            assert_eq!(cursor, codec.encode("t", "voice", "f=1", &position));
            assert_eq!(
                codec.decode::<(u32, String)>("t", "voice", "f=1", &cursor).unwrap(),
                position
            );
        }
    }

    #[test]
    fn cursors_round_trip_and_refuse_tampering_other_filters_and_other_tenants() {
        let codec = CursorCodec::new(b"k");
        let c = codec.encode("t", "voice", "f=1", &(3u32, "page".to_string()));
        let back: (u32, String) = codec.decode("t", "voice", "f=1", &c).unwrap();
        assert_eq!(back, (3, "page".to_string()));
        assert!(codec.decode::<(u32, String)>("t", "voice", "f=2", &c).is_err());
        assert!(codec.decode::<(u32, String)>("t", "video", "f=1", &c).is_err());
        assert!(codec.decode::<(u32, String)>("u", "voice", "f=1", &c).is_err());
        let mut raw = URL_SAFE_NO_PAD.decode(&c).unwrap();
        let last = raw.len() - 3;
        raw[last] ^= 1;
        assert!(
            codec
                .decode::<(u32, String)>("t", "voice", "f=1", &URL_SAFE_NO_PAD.encode(raw))
                .is_err()
        );
        assert!(
            codec
                .decode::<(u32, String)>("t", "voice", "f=1", "not a cursor")
                .is_err()
        );
        assert!(
            CursorCodec::new(b"other")
                .decode::<(u32, String)>("t", "voice", "f=1", &c)
                .is_err()
        );
    }
}

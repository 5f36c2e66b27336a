//! How a cached value is written to the shared cache: a format byte, the absolute expiry
//! (Unix milliseconds), then the value as MessagePack with structs as arrays (no field
//! names, so a record costs about its data). The expiry travels with the value, so a
//! replica that reads it keeps it only as long as the replica that fetched it decided.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The first byte of every value; another byte means another encoding.
const FORMAT: u8 = 1;
const HEADER: usize = 9;

/// Why a shared-cache value could not be written or read.
#[derive(Debug, thiserror::Error)]
pub(super) enum EnvelopeError {
    #[error("encoding: {0}")]
    Encode(#[from] rmp_serde::encode::Error),
    #[error("decoding: {0}")]
    Decode(#[from] rmp_serde::decode::Error),
    #[error("not a value of this format")]
    Format,
}

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// `value`, to live `ttl` from now.
pub(super) fn encode<V: Serialize>(value: &V, ttl: Duration) -> Result<Vec<u8>, EnvelopeError> {
    let expires = now_millis().saturating_add(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX));
    let mut bytes = Vec::with_capacity(256);
    bytes.push(FORMAT);
    bytes.extend_from_slice(&expires.to_be_bytes());
    rmp_serde::encode::write(&mut bytes, value)?;
    Ok(bytes)
}

/// The value and the time it has left; `None` once it has expired.
pub(super) fn decode<V: DeserializeOwned>(bytes: &[u8]) -> Result<Option<(V, Duration)>, EnvelopeError> {
    let (header, body) = bytes.split_at_checked(HEADER).ok_or(EnvelopeError::Format)?;
    if header[0] != FORMAT {
        return Err(EnvelopeError::Format);
    }
    let expires = u64::from_be_bytes(header[1..].try_into().map_err(|_| EnvelopeError::Format)?);
    let left = expires.saturating_sub(now_millis());
    if left == 0 {
        return Ok(None);
    }
    Ok(Some((rmp_serde::from_slice(body)?, Duration::from_millis(left))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
    struct Record {
        id: String,
        details: serde_json::Value,
        at: chrono::DateTime<chrono::Utc>,
    }

    #[test]
    fn a_value_comes_back_equal_with_the_time_it_has_left() {
        let record = Record {
            id: "a".into(),
            details: serde_json::json!({"nested": [1, 2.5, null, "x"]}),
            at: chrono::Utc::now(),
        };
        let bytes = encode(&record, Duration::from_secs(60)).unwrap();
        let (back, left) = decode::<Record>(&bytes).unwrap().unwrap();
        assert_eq!(back, record);
        assert!(
            left <= Duration::from_secs(60) && left > Duration::from_secs(55),
            "{left:?}"
        );
    }

    #[test]
    fn an_expired_value_is_absent_and_a_foreign_one_is_an_error() {
        let bytes = encode(&1u64, Duration::ZERO).unwrap();
        assert!(decode::<u64>(&bytes).unwrap().is_none());
        assert!(matches!(decode::<u64>(b"{\"json\":1}"), Err(EnvelopeError::Format)));
        assert!(decode::<u64>(b"\x01").is_err(), "too short");
        let mut wrong_type = encode(&"text", Duration::from_secs(5)).unwrap();
        assert!(decode::<u64>(&wrong_type).is_err());
        wrong_type.truncate(HEADER + 1);
        assert!(decode::<String>(&wrong_type).is_err(), "truncated");
    }
}

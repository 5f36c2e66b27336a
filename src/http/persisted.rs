//! Apollo's automatic persisted queries (APQ, issue 13): a client sends only the SHA-256
//! of a query it sent before (`extensions.persistedQuery`), by POST or by GET, so large
//! queries cross the network once and GET URLs stay short and cacheable.
//!
//! Protocol (as Apollo Client's `createPersistedQueryLink` and Apollo Router speak it):
//! hash only and unknown -> `PersistedQueryNotFound` (code `PERSISTED_QUERY_NOT_FOUND`,
//! HTTP 200), after which the client resends the hash with the query; a query whose hash
//! does not match is refused; otherwise the query is remembered in a bounded cache.

use std::sync::Arc;

use sha2::{Digest, Sha256};

/// Query texts the cache may hold, in bytes.
const MAX_BYTES: u64 = 16 * 1024 * 1024;

/// Why a request's query cannot be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersistedError {
    /// The hash is unknown: the client should resend it with the query.
    NotFound,
    /// APQ is turned off (`graphql.apq = false`).
    NotSupported,
    /// The extension is malformed, or the hash is not the query's.
    Invalid(&'static str),
}

/// The hash -> query cache, shared by every tenant (a query text holds no tenant data).
#[derive(Clone)]
pub struct PersistedQueries {
    cache: Option<moka::sync::Cache<[u8; 32], Arc<str>>>,
}

impl PersistedQueries {
    pub fn new(enabled: bool) -> Self {
        let cache = enabled.then(|| {
            moka::sync::Cache::builder()
                .max_capacity(MAX_BYTES)
                .weigher(|_: &[u8; 32], text: &Arc<str>| u32::try_from(text.len() + 64).unwrap_or(u32::MAX))
                .build()
        });
        PersistedQueries { cache }
    }

    /// The query to run: `query` itself (remembered under its hash when the request
    /// carries one), or the one remembered for the hash in `extensions`.
    pub fn resolve(
        &self,
        query: Option<String>,
        extensions: Option<&serde_json::Value>,
    ) -> Result<Option<String>, PersistedError> {
        let Some(persisted) = extensions.and_then(|e| e.get("persistedQuery")) else {
            return Ok(query);
        };
        let Some(cache) = &self.cache else {
            return Err(PersistedError::NotSupported);
        };
        if persisted.get("version").and_then(|v| v.as_u64()) != Some(1) {
            return Err(PersistedError::Invalid("persistedQuery.version must be 1"));
        }
        let mut hash = [0u8; 32];
        let hex = persisted.get("sha256Hash").and_then(|h| h.as_str()).unwrap_or("");
        if hex.len() != 64 || hex::decode_to_slice(hex, &mut hash).is_err() {
            return Err(PersistedError::Invalid(
                "persistedQuery.sha256Hash must be 64 hex digits",
            ));
        }
        match query {
            Some(query) => {
                let actual: [u8; 32] = Sha256::digest(query.as_bytes()).into();
                if actual != hash {
                    return Err(PersistedError::Invalid("provided sha256Hash does not match the query"));
                }
                cache.insert(hash, Arc::from(query.as_str()));
                Ok(Some(query))
            }
            None => cache
                .get(&hash)
                .map(|q| Some(q.to_string()))
                .ok_or(PersistedError::NotFound),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ext(query: &str) -> serde_json::Value {
        json!({"persistedQuery": {"version": 1, "sha256Hash": hex::encode(Sha256::digest(query.as_bytes()))}})
    }

    #[test]
    fn a_hash_is_unknown_until_sent_with_its_query_and_then_found() {
        let apq = PersistedQueries::new(true);
        let q = "{ __typename }";
        assert_eq!(apq.resolve(None, Some(&ext(q))), Err(PersistedError::NotFound));
        assert_eq!(apq.resolve(Some(q.into()), Some(&ext(q))), Ok(Some(q.into())));
        assert_eq!(apq.resolve(None, Some(&ext(q))), Ok(Some(q.into())));
    }

    #[test]
    fn a_query_with_another_hash_or_a_bad_extension_is_refused() {
        let apq = PersistedQueries::new(true);
        assert!(matches!(
            apq.resolve(Some("{ a }".into()), Some(&ext("{ b }"))),
            Err(PersistedError::Invalid(_))
        ));
        let bad = json!({"persistedQuery": {"version": 2, "sha256Hash": "00"}});
        assert!(matches!(apq.resolve(None, Some(&bad)), Err(PersistedError::Invalid(_))));
        assert_eq!(
            PersistedQueries::new(false).resolve(None, Some(&ext("{ a }"))),
            Err(PersistedError::NotSupported)
        );
        assert_eq!(apq.resolve(Some("{ a }".into()), None), Ok(Some("{ a }".into())));
    }
}

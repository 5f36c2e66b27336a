//! Persisted queries: Apollo's automatic persisted queries (APQ) and trusted
//! documents.
//!
//! APQ: a client sends only the SHA-256 of a query it sent before (`extensions.
//! persistedQuery`), by POST or by GET, so large queries cross the network once and GET
//! URLs stay short and cacheable. Protocol (as Apollo Client's `createPersistedQueryLink`
//! and Apollo Router speak it): hash only and unknown -> `PersistedQueryNotFound` (code
//! `PERSISTED_QUERY_NOT_FOUND`, HTTP 200), after which the client resends the hash with
//! the query; a query whose hash does not match is refused; otherwise the query is
//! remembered in a bounded cache.
//!
//! Trusted documents (`graphql.trusted_documents`): operations of a manifest are sent by
//! id (`documentId`, Relay's `doc_id`, or an Apollo persisted-query hash). In `required`
//! mode nothing else runs: an unknown id is `PERSISTED_QUERY_NOT_IN_LIST`, a query text
//! not in the manifest `QUERY_NOT_IN_SAFELIST` (Apollo Router's codes), and APQ registers
//! nothing.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::trusted::Manifest;
use crate::graphql::config::TrustedDocumentsMode;

/// Query texts the cache may hold, in bytes.
const MAX_BYTES: u64 = 16 * 1024 * 1024;

/// Why a request's query cannot be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersistedError {
    /// The hash is unknown: the client should resend it with the query.
    NotFound,
    /// APQ is turned off (`graphql.apq = false`), or an id was sent without a manifest.
    NotSupported,
    /// The extension is malformed, or the hash is not the query's.
    Invalid(&'static str),
    /// The id names no operation of the manifest.
    NotInList,
    /// Trusted documents are required and this text is not one of them.
    NotInSafelist,
}

/// Where a request says its query is.
#[derive(Debug, Default)]
pub struct QuerySource<'a> {
    pub query: Option<String>,
    /// `documentId` (GraphQL over HTTP) or `doc_id` (Relay).
    pub document_id: Option<&'a str>,
    pub extensions: Option<&'a serde_json::Value>,
}

/// The APQ cache (hash -> query, shared by every tenant: a query text holds no tenant
/// data) and the trusted-documents manifest.
#[derive(Clone)]
pub struct PersistedQueries {
    cache: Option<moka::sync::Cache<[u8; 32], Arc<str>>>,
    trusted: Option<Arc<Manifest>>,
    required: bool,
}

impl PersistedQueries {
    pub fn new(apq: bool) -> Self {
        let cache = apq.then(|| {
            moka::sync::Cache::builder()
                .max_capacity(MAX_BYTES)
                .weigher(|_: &[u8; 32], text: &Arc<str>| u32::try_from(text.len() + 64).unwrap_or(u32::MAX))
                .build()
        });
        PersistedQueries {
            cache,
            trusted: None,
            required: false,
        }
    }

    /// Adds the trusted documents of `manifest` (`mode` other than off).
    pub fn with_manifest(mut self, manifest: Manifest, mode: TrustedDocumentsMode) -> Self {
        self.required = mode == TrustedDocumentsMode::Required;
        self.trusted = (mode != TrustedDocumentsMode::Off).then(|| Arc::new(manifest));
        self
    }

    /// The query to run: the manifest's operation for an id, `query` itself (remembered
    /// under its hash when the request carries one), or the one remembered for the hash.
    pub fn resolve(&self, source: QuerySource<'_>) -> Result<Option<String>, PersistedError> {
        if let Some(id) = source.document_id {
            let manifest = self.trusted.as_ref().ok_or(PersistedError::NotSupported)?;
            return manifest
                .get(id)
                .map(|q| Some(q.to_string()))
                .ok_or(PersistedError::NotInList);
        }
        let Some(persisted) = source.extensions.and_then(|e| e.get("persistedQuery")) else {
            return match source.query {
                Some(query) if self.required && !self.trusted_text(&query) => Err(PersistedError::NotInSafelist),
                query => Ok(query),
            };
        };
        if persisted.get("version").and_then(|v| v.as_u64()) != Some(1) {
            return Err(PersistedError::Invalid("persistedQuery.version must be 1"));
        }
        let hex = persisted.get("sha256Hash").and_then(|h| h.as_str()).unwrap_or("");
        let mut hash = [0u8; 32];
        if hex.len() != 64 || hex::decode_to_slice(hex, &mut hash).is_err() {
            return Err(PersistedError::Invalid(
                "persistedQuery.sha256Hash must be 64 hex digits",
            ));
        }
        if let Some(query) = &source.query {
            let actual: [u8; 32] = Sha256::digest(query.as_bytes()).into();
            if actual != hash {
                return Err(PersistedError::Invalid("provided sha256Hash does not match the query"));
            }
        }
        // Apollo's persisted query lists use the hash as the operation id.
        if source.query.is_none()
            && let Some(manifest) = &self.trusted
            && let Some(query) = manifest.get(hex).or_else(|| manifest.get(&hex.to_ascii_lowercase()))
        {
            return Ok(Some(query.to_string()));
        }
        if self.required {
            return match source.query {
                Some(query) if self.trusted_text(&query) => Ok(Some(query)),
                Some(_) => Err(PersistedError::NotInSafelist),
                None => Err(PersistedError::NotInList),
            };
        }
        let cache = self.cache.as_ref().ok_or(PersistedError::NotSupported)?;
        match source.query {
            Some(query) => {
                cache.insert(hash, Arc::from(query.as_str()));
                Ok(Some(query))
            }
            None => cache
                .get(&hash)
                .map(|q| Some(q.to_string()))
                .ok_or(PersistedError::NotFound),
        }
    }

    fn trusted_text(&self, query: &str) -> bool {
        self.trusted.as_ref().is_some_and(|m| m.contains_text(query))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn ext(query: &str) -> Value {
        json!({"persistedQuery": {"version": 1, "sha256Hash": hex::encode(Sha256::digest(query.as_bytes()))}})
    }

    fn src<'a>(query: Option<&str>, extensions: Option<&'a Value>) -> QuerySource<'a> {
        QuerySource {
            query: query.map(str::to_string),
            document_id: None,
            extensions,
        }
    }

    fn by_id(id: &str) -> QuerySource<'_> {
        QuerySource {
            document_id: Some(id),
            ..QuerySource::default()
        }
    }

    const LISTED: &str = "query Listed { __typename }";

    fn trusted(mode: TrustedDocumentsMode) -> PersistedQueries {
        let id = hex::encode(Sha256::digest(LISTED.as_bytes()));
        let manifest = Manifest::parse(
            json!({"format": "apollo-persisted-query-manifest", "version": 1,
                   "operations": [{"id": id, "name": "Listed", "type": "query", "body": LISTED}]})
            .to_string()
            .as_bytes(),
        )
        .unwrap();
        PersistedQueries::new(true).with_manifest(manifest, mode)
    }

    #[test]
    fn a_hash_is_unknown_until_sent_with_its_query_and_then_found() {
        let apq = PersistedQueries::new(true);
        let q = "{ __typename }";
        assert_eq!(apq.resolve(src(None, Some(&ext(q)))), Err(PersistedError::NotFound));
        assert_eq!(apq.resolve(src(Some(q), Some(&ext(q)))), Ok(Some(q.into())));
        assert_eq!(apq.resolve(src(None, Some(&ext(q)))), Ok(Some(q.into())));
    }

    #[test]
    fn a_query_with_another_hash_or_a_bad_extension_is_refused() {
        let apq = PersistedQueries::new(true);
        assert!(matches!(
            apq.resolve(src(Some("{ a }"), Some(&ext("{ b }")))),
            Err(PersistedError::Invalid(_))
        ));
        let bad = json!({"persistedQuery": {"version": 2, "sha256Hash": "00"}});
        assert!(matches!(
            apq.resolve(src(None, Some(&bad))),
            Err(PersistedError::Invalid(_))
        ));
        assert_eq!(
            PersistedQueries::new(false).resolve(src(None, Some(&ext("{ a }")))),
            Err(PersistedError::NotSupported)
        );
        assert_eq!(apq.resolve(src(Some("{ a }"), None)), Ok(Some("{ a }".into())));
        assert_eq!(apq.resolve(by_id("x")), Err(PersistedError::NotSupported));
    }

    #[test]
    fn required_trusted_documents_run_only_the_manifest() {
        let pq = trusted(TrustedDocumentsMode::Required);
        let id = hex::encode(Sha256::digest(LISTED.as_bytes()));
        assert_eq!(pq.resolve(by_id(&id)), Ok(Some(LISTED.into())));
        assert_eq!(pq.resolve(src(None, Some(&ext(LISTED)))), Ok(Some(LISTED.into())));
        assert_eq!(pq.resolve(src(Some(LISTED), None)), Ok(Some(LISTED.into())));
        assert_eq!(pq.resolve(by_id("nope")), Err(PersistedError::NotInList));
        assert_eq!(
            pq.resolve(src(Some("{ __typename }"), None)),
            Err(PersistedError::NotInSafelist)
        );
        let other = "{ other: __typename }";
        assert_eq!(pq.resolve(src(None, Some(&ext(other)))), Err(PersistedError::NotInList));
        assert_eq!(
            pq.resolve(src(Some(other), Some(&ext(other)))),
            Err(PersistedError::NotInSafelist),
            "APQ registers nothing in required mode"
        );
    }

    #[test]
    fn allowed_trusted_documents_add_the_manifest_to_everything_else() {
        let pq = trusted(TrustedDocumentsMode::Allowed);
        let id = hex::encode(Sha256::digest(LISTED.as_bytes()));
        assert_eq!(pq.resolve(by_id(&id)), Ok(Some(LISTED.into())));
        assert_eq!(pq.resolve(src(Some("{ a }"), None)), Ok(Some("{ a }".into())));
        assert_eq!(
            pq.resolve(src(None, Some(&ext("{ a }")))),
            Err(PersistedError::NotFound)
        );
    }
}

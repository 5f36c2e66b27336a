//! Trusted documents: the operations a frontend was built with, from the
//! manifest its build writes, so a production BFF runs only those.
//!
//! Two manifest formats are read:
//! - Apollo's persisted query list (`@apollo/generate-persisted-query-manifest`):
//!   `{"format": "apollo-persisted-query-manifest", "version": 1, "operations":
//!   [{"id", "name", "type", "body"}]}`, where `id` is the SHA-256 of `body`;
//! - relay-compiler's `persistConfig` file: `{"<id>": "<query text>", ...}`.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use sha2::{Digest, Sha256};

/// The manifest's operations, by id and by the SHA-256 of their text.
#[derive(Debug, Default)]
pub struct Manifest {
    by_id: HashMap<String, Arc<str>>,
    texts: HashSet<[u8; 32]>,
}

impl Manifest {
    pub fn load(path: &Path) -> Result<Manifest, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("trusted documents manifest {}: {e}", path.display()))?;
        Manifest::parse(&bytes).map_err(|e| format!("trusted documents manifest {}: {e}", path.display()))
    }

    pub fn parse(bytes: &[u8]) -> Result<Manifest, String> {
        #[derive(serde::Deserialize)]
        struct Operation {
            id: String,
            body: String,
        }
        let json: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
        let mut manifest = Manifest::default();
        if json.get("format").and_then(|f| f.as_str()) == Some("apollo-persisted-query-manifest") {
            if json.get("version").and_then(|v| v.as_u64()) != Some(1) {
                return Err("only version 1 of Apollo's manifest format is known".into());
            }
            let operations: Vec<Operation> = serde_json::from_value(json["operations"].clone())
                .map_err(|e| format!("`operations` is not a list of {{id, body}}: {e}"))?;
            for op in operations {
                manifest.insert(op.id, op.body);
            }
        } else {
            let map: HashMap<String, String> = serde_json::from_value(json).map_err(|_| {
                "neither Apollo's persisted query list nor a relay-compiler map of id to query text".to_string()
            })?;
            for (id, body) in map {
                manifest.insert(id, body);
            }
        }
        if manifest.by_id.is_empty() {
            return Err("holds no operations".into());
        }
        Ok(manifest)
    }

    fn insert(&mut self, id: String, body: String) {
        self.texts.insert(Sha256::digest(body.as_bytes()).into());
        self.by_id.insert(id, Arc::from(body));
    }

    /// The text of operation `id`.
    pub fn get(&self, id: &str) -> Option<&Arc<str>> {
        self.by_id.get(id)
    }

    /// Whether this exact text is one of the manifest's operations.
    pub fn contains_text(&self, query: &str) -> bool {
        self.texts.contains(&<[u8; 32]>::from(Sha256::digest(query.as_bytes())))
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apollo_and_relay_manifests_are_both_read() {
        let apollo = br#"{"format":"apollo-persisted-query-manifest","version":1,
            "operations":[{"id":"abc","name":"Q","type":"query","body":"query Q { __typename }"}]}"#;
        let m = Manifest::parse(apollo).unwrap();
        assert_eq!(m.get("abc").map(|s| &**s), Some("query Q { __typename }"));
        assert!(m.contains_text("query Q { __typename }"));
        assert!(!m.contains_text("query Q { __typename  }"));

        let relay = br#"{"1f2e3d": "query R { __typename }"}"#;
        let m = Manifest::parse(relay).unwrap();
        assert_eq!(m.get("1f2e3d").map(|s| &**s), Some("query R { __typename }"));
    }

    #[test]
    fn a_manifest_that_is_not_one_is_a_startup_error() {
        assert!(Manifest::parse(b"[]").is_err());
        assert!(Manifest::parse(b"{}").is_err());
        assert!(
            Manifest::parse(br#"{"format":"apollo-persisted-query-manifest","version":2,"operations":[]}"#).is_err()
        );
        assert!(Manifest::parse(br#"{"a": 1}"#).is_err());
    }
}

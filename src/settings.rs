//! What every layer's config section is made of: secret strings that never print, the
//! error a section's validation reports (naming the offending key), and small checks
//! several sections share. A leaf: it imports no other module of the crate, so every
//! layer may use it without depending on `config` (which assembles the sections).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A secret string: `Debug` and `Display` print `***`, only `expose` reveals it.
#[derive(Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A configuration that cannot be used; the message names the offending key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration error: {0}")]
    Load(#[from] Box<figment::Error>),
    #[error("configuration error: `{key}` {problem}")]
    Invalid { key: String, problem: String },
    #[error("configuration file {0} does not exist")]
    MissingFile(String),
}

/// Whether `hash` is 64 hex digits (a SHA-256 written out).
pub fn is_sha256_hex(hash: &str) -> bool {
    hash.len() == 64 && hash.chars().all(|c| c.is_ascii_hexdigit())
}

impl ConfigError {
    /// `key` (the full dotted path) has an unusable value.
    pub fn invalid(key: impl Into<String>, problem: impl Into<String>) -> Self {
        ConfigError::Invalid {
            key: key.into(),
            problem: problem.into(),
        }
    }
}

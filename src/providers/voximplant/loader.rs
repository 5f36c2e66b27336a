//! Per-request DataLoader for Voximplant sessions: a batch of ids becomes one
//! GetCallHistory with `call_session_history_id=a;b;c` (up to 1000) over a date window
//! covering them (each key carries its session's start: `id@unix-seconds`).

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use async_graphql::dataloader::Loader;

use super::Voximplant;
use super::model::{AuditLogEntry, CallSession};
use crate::providers::{CachedLoader, Lookup};

/// Loads sessions by `id@unix-seconds` keys.
pub struct CallSessionLoader(pub Arc<Voximplant>);

impl Loader<String> for CallSessionLoader {
    type Value = Lookup<CallSession>;
    type Error = Infallible;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Infallible> {
        self.0.cache.metrics().batch("voximplant_call_session", keys.len());
        Ok(self.0.sessions_by_key(keys).await)
    }
}

impl CachedLoader for CallSessionLoader {
    type Record = CallSession;

    async fn cached(&self, key: &str) -> Option<Lookup<CallSession>> {
        self.0.cached_session(key).await
    }
}

/// Loads audit log entries by `id@unix-seconds` keys.
pub struct AuditEntryLoader(pub Arc<Voximplant>);

impl Loader<String> for AuditEntryLoader {
    type Value = Lookup<AuditLogEntry>;
    type Error = Infallible;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Infallible> {
        self.0.cache.metrics().batch("voximplant_audit_entry", keys.len());
        Ok(self.0.audit_entries_by_key(keys).await)
    }
}

impl CachedLoader for AuditEntryLoader {
    type Record = AuditLogEntry;

    async fn cached(&self, key: &str) -> Option<Lookup<AuditLogEntry>> {
        self.0.cached_audit_entry(key).await
    }
}

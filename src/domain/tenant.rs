//! Who a request acts for: a tenant, i.e. one credential set. Every cache key, metric
//! label and upstream client is scoped by it, so it sits here where every layer may
//! import it.

use std::sync::Arc;

use serde::Serialize;
use sha2::{Digest, Sha256};

/// Who a cached value belongs to: one credential set. Within a process a tenant is its
/// name; in the shared cache it is its `scope`, a digest of its name and provider settings,
/// so two deployments that both call a tenant `default` never read each other's entries.
#[derive(Debug, Clone)]
pub struct TenantId(Arc<TenantName>);

#[derive(Debug)]
struct TenantName {
    name: Box<str>,
    scope: Box<str>,
}

impl TenantId {
    /// A tenant known by its name only (tests, tools).
    pub fn new(name: &str) -> Self {
        TenantId::scoped(name, &())
    }

    /// The tenant `name` with these provider `settings` (credentials included: they are
    /// hashed, never stored).
    pub fn scoped(name: &str, settings: &impl Serialize) -> Self {
        let mut digest = Sha256::new();
        digest.update(name.as_bytes());
        digest.update([0]);
        digest.update(serde_json::to_vec(settings).unwrap_or_default());
        let scope = hex::encode(&digest.finalize()[..8]);
        TenantId(Arc::new(TenantName {
            name: name.into(),
            scope: scope.into(),
        }))
    }

    pub fn as_str(&self) -> &str {
        &self.0.name
    }

    /// The tenant's part of shared-cache keys (16 hex digits).
    pub fn scope(&self) -> &str {
        &self.0.scope
    }
}

// Names are unique within a process: equality and order need not look at the scope.
impl PartialEq for TenantId {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.name == other.0.name
    }
}
impl Eq for TenantId {}
impl std::hash::Hash for TenantId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.name.hash(state);
    }
}
impl PartialOrd for TenantId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for TenantId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.name.cmp(&other.0.name)
    }
}

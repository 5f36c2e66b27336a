//! Tenants: named credential sets, each with its provider services, and the mapping from
//! a caller's gateway API key or name to its tenant.

use std::collections::HashMap;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::cache::{Cache, TenantId};
use crate::config::{Config, ProvidersConfig};
use crate::providers::registry;
use crate::providers::{BuildContext, REGISTERED, Service};

/// One credential set and the provider services built from it.
pub struct Tenant {
    pub id: TenantId,
    services: Vec<Arc<dyn Service>>,
}

impl Tenant {
    /// The tenant's service of type `S` (a provider's GraphQL code asks for its own).
    pub fn service<S: Service>(&self) -> Option<Arc<S>> {
        self.services.iter().find_map(registry::downcast::<S>)
    }

    /// Every configured provider's service.
    pub fn services(&self) -> &[Arc<dyn Service>] {
        &self.services
    }
}

/// Every tenant, reachable by gateway API key and by name (a JWT's tenant claim).
pub struct Tenants {
    /// The implicit tenant when no `[[tenants]]` are listed.
    single: Option<Arc<Tenant>>,
    /// Keyed by SHA-256 of the gateway API key.
    by_key: HashMap<[u8; 32], Arc<Tenant>>,
    by_name: HashMap<String, Arc<Tenant>>,
}

impl Tenants {
    /// Builds every tenant's services; fails when a provider's credentials are unusable
    /// (the message names the tenant and provider).
    pub fn from_config(config: &Config, http: &crate::upstream::Http, cache: &Cache) -> Result<Tenants, String> {
        let build = |name: &str, providers: &ProvidersConfig| -> Result<Arc<Tenant>, String> {
            let id = TenantId::scoped(name, providers);
            let ctx = BuildContext {
                tenant: &id,
                http,
                upstream: &config.upstream,
                cache,
            };
            let services = REGISTERED
                .iter()
                .filter_map(|registration| registration.build(providers, &ctx))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("tenant {name}: {e}"))?;
            Ok(Arc::new(Tenant { id, services }))
        };
        let mut tenants = Tenants {
            single: None,
            by_key: HashMap::new(),
            by_name: HashMap::new(),
        };
        if config.tenants.is_empty() {
            let tenant = build(SINGLE_TENANT, &config.providers)?;
            tenants.by_name.insert(SINGLE_TENANT.to_string(), tenant.clone());
            tenants.single = Some(tenant);
            return Ok(tenants);
        }
        for config in &config.tenants {
            let tenant = build(&config.name, &config.providers)?;
            let mut hash = [0u8; 32];
            // Validated as 64 hex digits when the config was loaded.
            if let Some(hex) = &config.api_key_sha256
                && hex::decode_to_slice(hex, &mut hash).is_ok()
            {
                tenants.by_key.insert(hash, tenant.clone());
            }
            tenants.by_name.insert(config.name.clone(), tenant);
        }
        Ok(tenants)
    }

    /// The implicit tenant, when no `[[tenants]]` are listed.
    pub fn single(&self) -> Option<&Arc<Tenant>> {
        self.single.as_ref()
    }

    /// The tenant whose gateway API key this is.
    pub fn by_key(&self, key: &str) -> Option<&Arc<Tenant>> {
        let hash: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        self.by_key.get(&hash)
    }

    /// The tenant of this name (`[[tenants]] name`, or `default` for the single one).
    pub fn by_name(&self, name: &str) -> Option<&Arc<Tenant>> {
        self.by_name.get(name)
    }

    pub fn all(&self) -> Vec<Arc<Tenant>> {
        self.by_name.values().cloned().collect()
    }
}

/// The name of the implicit tenant.
pub const SINGLE_TENANT: &str = "default";

/// Hex SHA-256 of an API key, as `api_key_sha256` expects.
pub fn hash_api_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

//! Tenants: named credential sets, each with its provider services, and the mapping from
//! a caller's gateway API key or name to its tenant.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::cache::Cache;
use crate::domain::TenantId;
use crate::providers::ProvidersConfig;
use crate::providers::registry;
use crate::providers::{BuildContext, REGISTERED, Service};
use crate::settings::{ConfigError, is_sha256_hex};
use crate::upstream::config::UpstreamConfig;

/// `[[tenants]]`: one named credential set, reached by a gateway API key or a JWT claim.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    pub name: String,
    /// Hex SHA-256 of the gateway API key callers send as `Authorization: Bearer <key>`;
    /// unset, the tenant is reached only through a JWT's tenant claim.
    #[serde(default)]
    pub api_key_sha256: Option<String>,
    /// The scopes (`[authorization]`) granted to callers with the API key; unset, they are
    /// trusted services and get every scope.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    pub providers: ProvidersConfig,
}

/// Checks `[[tenants]]`: unique names and key hashes, each with a key hash unless JWTs
/// name tenants (`has_jwt`), each with valid provider sections.
pub fn validate_tenants(tenants: &[TenantConfig], has_jwt: bool) -> Result<(), ConfigError> {
    let mut names = BTreeSet::new();
    let mut hashes = BTreeSet::new();
    for (i, tenant) in tenants.iter().enumerate() {
        let prefix = format!("tenants[{i}]");
        if !names.insert(tenant.name.as_str()) {
            return Err(ConfigError::invalid(format!("{prefix}.name"), "is used by two tenants"));
        }
        if let Some(hash) = &tenant.api_key_sha256 {
            if !is_sha256_hex(hash) {
                return Err(ConfigError::invalid(
                    format!("{prefix}.api_key_sha256"),
                    "must be 64 hex digits (SHA-256 of the API key)",
                ));
            }
            if !hashes.insert(hash.to_ascii_lowercase()) {
                return Err(ConfigError::invalid(
                    format!("{prefix}.api_key_sha256"),
                    "is the key hash of another tenant too: one key must name one tenant",
                ));
            }
        } else if !has_jwt {
            return Err(ConfigError::invalid(
                format!("{prefix}.api_key_sha256"),
                "is required unless [auth.jwt] names tenants by a claim",
            ));
        }
        tenant.providers.validate(&format!("{prefix}.providers"))?;
    }
    Ok(())
}

/// A tenant whose provider services could not be built (credentials that cannot be used).
#[derive(Debug, thiserror::Error)]
#[error("tenant {tenant}: {problem}")]
pub struct TenancyError {
    pub tenant: String,
    pub problem: String,
}

/// One credential set and the provider services built from it.
pub struct Tenant {
    pub id: TenantId,
    /// The scopes of callers with the tenant's API key (`None`: every scope).
    pub key_scopes: Option<Vec<String>>,
    services: Vec<Arc<dyn Service>>,
    /// Its provider sections (webhooks check their secrets against them).
    pub providers: ProvidersConfig,
    /// The shared cache its services read through (keys start with `id`), for answers
    /// made of several providers' records (`callLogStats`).
    pub cache: Cache,
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
    pub fn from_config(
        single: &ProvidersConfig,
        listed: &[TenantConfig],
        upstream: &UpstreamConfig,
        http: &crate::upstream::Http,
        cache: &Cache,
    ) -> Result<Tenants, TenancyError> {
        let build = |name: &str,
                     providers: &ProvidersConfig,
                     key_scopes: Option<Vec<String>>|
         -> Result<Arc<Tenant>, TenancyError> {
            let id = TenantId::scoped(name, providers);
            let ctx = BuildContext {
                tenant: &id,
                http,
                upstream,
                cache,
            };
            let services = REGISTERED
                .iter()
                .filter_map(|registration| registration.build(providers, &ctx))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|problem| TenancyError {
                    tenant: name.to_string(),
                    problem,
                })?;
            Ok(Arc::new(Tenant {
                id,
                key_scopes,
                services,
                providers: providers.clone(),
                cache: cache.clone(),
            }))
        };
        let mut tenants = Tenants {
            single: None,
            by_key: HashMap::new(),
            by_name: HashMap::new(),
        };
        if listed.is_empty() {
            let tenant = build(SINGLE_TENANT, single, None)?;
            tenants.by_name.insert(SINGLE_TENANT.to_string(), tenant.clone());
            tenants.single = Some(tenant);
            return Ok(tenants);
        }
        for config in listed {
            let tenant = build(&config.name, &config.providers, config.scopes.clone())?;
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

//! Tenants: named credential sets, each with its provider services, and the mapping from
//! a caller's gateway API key to its tenant (DESIGN.md §5).

use std::collections::HashMap;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::cache::{Cache, TenantId};
use crate::config::{Config, ProvidersConfig};
use crate::providers::oneuptime::OneUptime;
use crate::providers::signalwire::SignalWire;
use crate::providers::voximplant::{Voximplant, auth};

/// One credential set and the provider services built from it.
pub struct Tenant {
    pub id: TenantId,
    pub signalwire: Option<Arc<SignalWire>>,
    pub oneuptime: Option<Arc<OneUptime>>,
    pub voximplant: Option<Arc<Voximplant>>,
}

/// Why a request has no tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthError {
    MissingKey,
    UnknownKey,
}

/// Resolves requests to tenants.
pub enum Tenants {
    /// No gateway keys: every request is the implicit tenant.
    Single(Arc<Tenant>),
    /// Callers must send `Authorization: Bearer <key>`; keyed by SHA-256 of the key.
    Keyed(HashMap<[u8; 32], Arc<Tenant>>),
}

impl Tenants {
    /// Builds every tenant's services; fails when a provider's credentials are unusable
    /// (the message names the tenant and provider).
    pub fn from_config(config: &Config, http: &reqwest::Client, cache: &Cache) -> Result<Tenants, String> {
        let build = |name: &str, providers: &ProvidersConfig| -> Result<Arc<Tenant>, String> {
            let id = TenantId::new(name);
            let voximplant = providers
                .voximplant
                .as_ref()
                .map(|vx| {
                    Voximplant::new(
                        id.clone(),
                        vx,
                        http.clone(),
                        &config.upstream,
                        cache.clone(),
                        auth::system_clock(),
                    )
                    .map(Arc::new)
                    .map_err(|e| format!("tenant {name}: {e}"))
                })
                .transpose()?;
            Ok(Arc::new(Tenant {
                voximplant,
                signalwire: providers.signalwire.as_ref().map(|sw| {
                    Arc::new(SignalWire::new(
                        id.clone(),
                        sw,
                        http.clone(),
                        &config.upstream,
                        cache.clone(),
                    ))
                }),
                oneuptime: providers.oneuptime.as_ref().map(|ou| {
                    Arc::new(OneUptime::new(
                        id.clone(),
                        ou,
                        http.clone(),
                        &config.upstream,
                        cache.clone(),
                    ))
                }),
                id,
            }))
        };
        if config.tenants.is_empty() {
            return Ok(Tenants::Single(build("default", &config.providers)?));
        }
        let mut keyed = HashMap::new();
        for tenant in &config.tenants {
            let mut hash = [0u8; 32];
            // Validated as 64 hex digits when the config was loaded.
            if hex::decode_to_slice(&tenant.api_key_sha256, &mut hash).is_ok() {
                keyed.insert(hash, build(&tenant.name, &tenant.providers)?);
            }
        }
        Ok(Tenants::Keyed(keyed))
    }

    /// The tenant of a request that sent this bearer token (if any).
    pub fn resolve(&self, bearer: Option<&str>) -> Result<Arc<Tenant>, AuthError> {
        match self {
            Tenants::Single(t) => Ok(t.clone()),
            Tenants::Keyed(map) => {
                let key = bearer.ok_or(AuthError::MissingKey)?;
                let hash: [u8; 32] = Sha256::digest(key.as_bytes()).into();
                map.get(&hash).cloned().ok_or(AuthError::UnknownKey)
            }
        }
    }

    pub fn all(&self) -> Vec<Arc<Tenant>> {
        match self {
            Tenants::Single(t) => vec![t.clone()],
            Tenants::Keyed(map) => map.values().cloned().collect(),
        }
    }
}

/// Hex SHA-256 of an API key, as `api_key_sha256` expects.
pub fn hash_api_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

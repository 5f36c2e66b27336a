//! The provider contract as shared code sees it (ARCHITECTURE.md, "The
//! provider contract"): each provider module registers once in `providers::REGISTERED`, and
//! tenancy, app wiring and metrics iterate over the registrations without naming one.
//!
//! A registration finds the provider's section in a tenant's config (to validate it and
//! describe it for the startup log) and builds the provider's service from it. The service is then held by
//! the tenant as a `dyn Service` (what metrics need) and reached, typed, by the provider's
//! own GraphQL code through `Tenant::service::<S>()`.

use std::any::Any;
use std::sync::Arc;

use crate::cache::Cache;
use crate::domain::Provider;
use crate::domain::TenantId;
use crate::providers::ProvidersConfig;
use crate::settings::ConfigError;
use crate::upstream::config::UpstreamConfig;

/// What shared code may ask of any provider's service.
pub trait Service: Any + Send + Sync {
    fn provider(&self) -> Provider;
    /// The provider's upstream client for this tenant (request counts, breaker state).
    fn upstream(&self) -> &crate::upstream::UpstreamClient;
    /// `switchboard doctor`'s checks of this provider's assumptions against the account
    /// (read-only requests, except what `options` allows); none by default.
    fn doctor<'a>(&'a self, options: &'a super::doctor::Options) -> super::doctor::Checks<'a> {
        let _ = options;
        Box::pin(async { Vec::new() })
    }
}

/// What building a tenant's service needs besides its config section.
pub struct BuildContext<'a> {
    pub tenant: &'a TenantId,
    pub http: &'a crate::upstream::Http,
    pub upstream: &'a UpstreamConfig,
    pub cache: &'a Cache,
}

/// One provider, registered once.
pub trait Registration: Sync {
    fn provider(&self) -> Provider;
    /// The provider's service for a tenant whose config has its section; `None` without
    /// the section; an error names what is unusable.
    fn build(&self, providers: &ProvidersConfig, ctx: &BuildContext<'_>) -> Option<Result<Arc<dyn Service>, String>>;
    /// Its section of `providers` (`[providers.<name>]`), when configured.
    fn section<'a>(&self, providers: &'a ProvidersConfig) -> Option<&'a dyn Section>;
}

/// A provider's config section, as shared code sees it.
pub trait Section {
    /// Checks the values; errors name the key under `prefix` (e.g. `providers.signalwire`).
    fn validate(&self, prefix: &str) -> Result<(), ConfigError>;
    /// The startup log's description of the section (never a secret).
    fn describe(&self) -> String;
}

/// `service` as its concrete type, when it is one.
pub fn downcast<S: Service>(service: &Arc<dyn Service>) -> Option<Arc<S>> {
    // Checked by reference first: asking every service of a tenant costs no Arc clone.
    let any: &dyn Any = &**service;
    if !any.is::<S>() {
        return None;
    }
    let any: Arc<dyn Any + Send + Sync> = service.clone();
    any.downcast::<S>().ok()
}

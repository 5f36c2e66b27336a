//! What one GraphQL request carries into resolvers: its tenant and its DataLoaders.
//!
//! Loaders are created per request (ARCHITECTURE.md, "Caching and batching"): batching is per request, caching is
//! the shared moka cache behind them.

use std::sync::Arc;

use async_graphql::Context;
use async_graphql::dataloader::DataLoader;

use super::error::GatewayError;
use crate::domain::Provider;
use crate::providers::oneuptime::{CallLogLoader, OneUptime};
use crate::providers::signalwire::{SignalWire, VideoLogLoader, VoiceLogLoader};
use crate::providers::voximplant::{AuditEntryLoader, CallSessionLoader, Voximplant};
use crate::tenancy::Tenant;
use crate::upstream::budget::{CallBudget, spawn_in_budget};

/// SignalWire's service and loaders for this request.
pub struct SignalWireScope {
    pub service: Arc<SignalWire>,
    pub voice: DataLoader<VoiceLogLoader>,
    pub video: DataLoader<VideoLogLoader>,
}

/// OneUptime's service and loader for this request.
pub struct OneUptimeScope {
    pub service: Arc<OneUptime>,
    pub call_logs: DataLoader<CallLogLoader>,
}

/// Voximplant's service and loader for this request.
pub struct VoximplantScope {
    pub service: Arc<Voximplant>,
    pub sessions: DataLoader<CallSessionLoader>,
    pub audit_entries: DataLoader<AuditEntryLoader>,
}

/// Per-request context.
pub struct RequestScope {
    pub tenant: Arc<Tenant>,
    signalwire: Option<SignalWireScope>,
    oneuptime: Option<OneUptimeScope>,
    voximplant: Option<VoximplantScope>,
}

impl RequestScope {
    /// The scope of one request of `tenant`; its loaders' batch tasks charge `budget`.
    pub fn new(tenant: Arc<Tenant>, budget: &Arc<CallBudget>) -> Self {
        let spawn = || spawn_in_budget(budget.clone());
        let signalwire = tenant.service::<SignalWire>().map(|service| SignalWireScope {
            voice: DataLoader::new(VoiceLogLoader(service.clone()), spawn()),
            video: DataLoader::new(VideoLogLoader(service.clone()), spawn()),
            service,
        });
        let oneuptime = tenant.service::<OneUptime>().map(|service| OneUptimeScope {
            call_logs: DataLoader::new(CallLogLoader(service.clone()), spawn()),
            service,
        });
        let voximplant = tenant.service::<Voximplant>().map(|service| VoximplantScope {
            sessions: DataLoader::new(CallSessionLoader(service.clone()), spawn()),
            audit_entries: DataLoader::new(AuditEntryLoader(service.clone()), spawn()),
            service,
        });
        RequestScope {
            tenant,
            signalwire,
            oneuptime,
            voximplant,
        }
    }

    pub fn signalwire(&self) -> Result<&SignalWireScope, GatewayError> {
        self.signalwire
            .as_ref()
            .ok_or_else(|| GatewayError::not_configured(Provider::SignalWire))
    }

    pub fn oneuptime(&self) -> Result<&OneUptimeScope, GatewayError> {
        self.oneuptime
            .as_ref()
            .ok_or_else(|| GatewayError::not_configured(Provider::OneUptime))
    }

    pub fn voximplant(&self) -> Result<&VoximplantScope, GatewayError> {
        self.voximplant
            .as_ref()
            .ok_or_else(|| GatewayError::not_configured(Provider::Voximplant))
    }
}

/// The request scope of a resolver's context (always present: the HTTP layer adds it).
pub fn scope<'a>(ctx: &Context<'a>) -> Result<&'a RequestScope, GatewayError> {
    ctx.data::<RequestScope>()
        .map_err(|_| GatewayError::internal("request scope missing from the GraphQL context"))
}

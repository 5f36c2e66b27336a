//! What one GraphQL request carries into resolvers: its tenant and each configured
//! provider's part (its service and DataLoaders).
//!
//! Loaders are created per request (ARCHITECTURE.md, "Caching and batching"): batching
//! is per request, caching is the shared moka cache behind them. Each provider's GraphQL
//! module defines its part and registers how to build it in `providers::PARTS`; resolvers ask for
//! a part by type, and shared code names no provider.

use std::any::Any;
use std::sync::Arc;

use async_graphql::Context;

use super::connection::Paging;
use super::cursor::CursorCodec;
use super::error::GatewayError;
use crate::authz::Access;
use crate::domain::Provider;
use crate::request::CallBudget;
use crate::tenancy::Tenant;

/// A provider's part of the request scope.
pub trait ProviderScope: Any + Send + Sync {
    /// The provider it belongs to (named when it is not configured).
    const PROVIDER: Provider;
    /// The provider's service.
    type Service: Send + Sync;
    /// The service this part reads through.
    fn service(&self) -> &Arc<Self::Service>;
}

/// Builds a provider's part for a request of `tenant` (`None` when the tenant has not
/// configured the provider); its loaders' batch tasks charge `budget`.
pub(super) type BuildPart = fn(&Tenant, &Arc<CallBudget>) -> Option<Box<dyn Any + Send + Sync>>;

/// Per-request context.
pub struct RequestScope {
    pub tenant: Arc<Tenant>,
    /// What the caller may see (`authz`), and what it was shown.
    pub access: Arc<Access>,
    /// Where the caller's cost budget stood once this request was admitted (`rateLimit`);
    /// `None` without `[limits]`.
    pub standing: Option<crate::demand::Standing>,
    parts: Vec<Box<dyn Any + Send + Sync>>,
}

impl RequestScope {
    /// The scope of one request of `tenant` by a caller with `access`; its loaders' batch
    /// tasks charge `budget`.
    pub fn new(tenant: Arc<Tenant>, access: Arc<Access>, budget: &Arc<CallBudget>) -> Self {
        let parts = super::providers::PARTS
            .iter()
            .filter_map(|build| build(&tenant, budget))
            .collect();
        RequestScope {
            tenant,
            access,
            standing: None,
            parts,
        }
    }

    /// Refuses a filter of input type `input` when a field it gives (`(name, given)`)
    /// selects by a field the caller may not see (`FORBIDDEN`).
    pub fn check_filters(&self, input: &str, fields: &[(&str, bool)]) -> Result<(), GatewayError> {
        for (field, _) in fields.iter().filter(|(_, given)| *given) {
            self.access.check_filter(input, field).map_err(|denied| {
                GatewayError::forbidden(format!(
                    "`filter.{field}` needs the scope that `{}` requires, which this caller does not hold",
                    denied.rule
                ))
            })?;
        }
        Ok(())
    }

    /// The part of provider scope `S`; `PROVIDER_NOT_CONFIGURED` when the tenant has none.
    pub fn get<S: ProviderScope>(&self) -> Result<&S, GatewayError> {
        self.parts
            .iter()
            .find_map(|part| part.downcast_ref::<S>())
            .ok_or_else(|| GatewayError::not_configured(S::PROVIDER))
    }

    /// The service of provider scope `S` (a shared handle to it).
    pub fn service<S: ProviderScope>(&self) -> Result<Arc<S::Service>, GatewayError> {
        Ok(self.get::<S>()?.service().clone())
    }
}

/// What a field's body reads of its request, whoever runs it: async-graphql (its
/// `Context`) or a compiled plan (`graphql::plan`). Connection fields are written once
/// against this and run under either.
pub trait Env: Sync {
    /// The request's scope.
    fn request(&self) -> Result<&RequestScope, GatewayError>;
    /// Page-size limits from config.
    fn paging(&self) -> Result<&Paging, GatewayError>;
    /// The cursor codec.
    fn codec(&self) -> Result<&CursorCodec, GatewayError>;
    /// Reports `error` at the field's path, beside the field's value.
    fn report(&self, error: GatewayError);
    /// Notes that a timeline page was cut by its scan bound (the response's
    /// `timelineScanCut` extension).
    fn note_scan_cut(&self);
}

impl Env for Context<'_> {
    fn request(&self) -> Result<&RequestScope, GatewayError> {
        self.data::<RequestScope>()
            .map_err(|_| GatewayError::internal("request scope missing from the GraphQL context"))
    }

    fn paging(&self) -> Result<&Paging, GatewayError> {
        self.data::<Paging>()
            .map_err(|_| GatewayError::internal("paging limits missing from the schema data"))
    }

    fn codec(&self) -> Result<&CursorCodec, GatewayError> {
        self.data::<CursorCodec>()
            .map_err(|_| GatewayError::internal("cursor codec missing from the schema data"))
    }

    fn report(&self, error: GatewayError) {
        super::error::report(self, error);
    }

    fn note_scan_cut(&self) {
        if let Some(notes) = self.data_opt::<std::sync::Arc<super::ResponseNotes>>() {
            notes.scan_cut.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// The request scope of a resolver's context (always present: the HTTP layer adds it).
pub fn scope<E: Env + ?Sized>(env: &E) -> Result<&RequestScope, GatewayError> {
    env.request()
}

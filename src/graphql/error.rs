//! The gateway's error vocabulary (README "HTTP") and its conversion to GraphQL errors.
//!
//! Every error carries `extensions.code`, plus `provider` when an upstream caused it.
//! Upstream bodies and internal details go to the logs, never into the message.

use async_graphql::ErrorExtensionValues;
use async_graphql::resolver_utils::enum_value;

use crate::domain::Provider;
use crate::upstream::{UpstreamError, UpstreamErrorKind};

/// The stable codes clients can branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    BadUserInput,
    Unauthenticated,
    Forbidden,
    ProviderNotConfigured,
    UpstreamUnauthorized,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
    UpstreamBadResponse,
    /// The gateway is at its connection or in-flight cap; retry after `Retry-After`.
    Overloaded,
    /// APQ: the hash is unknown; resend it with the query (Apollo's protocol).
    PersistedQueryNotFound,
    /// APQ is turned off on this gateway.
    PersistedQueryNotSupported,
    /// Trusted documents: the id names no operation of the manifest.
    PersistedQueryNotInList,
    /// Trusted documents are required and the query text is not in the manifest.
    QueryNotInSafelist,
    /// A subscriber fell `live.buffer` events behind; its subscription ended (resume with
    /// `after`: the last event's cursor).
    SubscriptionLagged,
    /// The tenant holds `live.max_subscriptions_per_tenant` subscriptions already.
    TooManySubscriptions,
    /// The request's estimated cost is more than its tenant's or user's budget has left
    /// (`[limits]`); retry after `retryAfterSeconds`.
    RateLimited,
    InternalServerError,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadUserInput => "BAD_USER_INPUT",
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::ProviderNotConfigured => "PROVIDER_NOT_CONFIGURED",
            ErrorCode::UpstreamUnauthorized => "UPSTREAM_UNAUTHORIZED",
            ErrorCode::UpstreamRateLimited => "UPSTREAM_RATE_LIMITED",
            ErrorCode::UpstreamTimeout => "UPSTREAM_TIMEOUT",
            ErrorCode::UpstreamUnavailable => "UPSTREAM_UNAVAILABLE",
            ErrorCode::UpstreamBadResponse => "UPSTREAM_BAD_RESPONSE",
            ErrorCode::Overloaded => "OVERLOADED",
            ErrorCode::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            ErrorCode::PersistedQueryNotSupported => "PERSISTED_QUERY_NOT_SUPPORTED",
            ErrorCode::PersistedQueryNotInList => "PERSISTED_QUERY_NOT_IN_LIST",
            ErrorCode::QueryNotInSafelist => "QUERY_NOT_IN_SAFELIST",
            ErrorCode::SubscriptionLagged => "SUBSCRIPTION_LAGGED",
            ErrorCode::TooManySubscriptions => "TOO_MANY_SUBSCRIPTIONS",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::InternalServerError => "INTERNAL_SERVER_ERROR",
        }
    }
}

/// An error on its way to the client: a safe message and its extensions.
///
/// Deliberately not `Display`, so `?` uses the conversion below (which adds the code)
/// rather than async-graphql's blanket one for displayable errors.
#[derive(Debug, Clone)]
pub struct GatewayError {
    pub code: ErrorCode,
    pub message: String,
    pub provider: Option<Provider>,
    pub retry_after_seconds: Option<u64>,
    pub correlation_id: Option<String>,
}

impl GatewayError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        GatewayError {
            code,
            message: message.into(),
            provider: None,
            retry_after_seconds: None,
            correlation_id: None,
        }
    }

    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadUserInput, message)
    }

    /// The caller may not see or use what it asked for (`[authorization]`).
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    pub fn not_configured(provider: Provider) -> Self {
        GatewayError {
            provider: Some(provider),
            ..Self::new(
                ErrorCode::ProviderNotConfigured,
                format!("no {} credentials are configured for this tenant", provider.as_str()),
            )
        }
    }

    /// Logs the detail under a fresh correlation id the client also gets.
    pub fn internal(detail: &str) -> Self {
        // The request's id when there is one, so the client, the access line and this
        // line all carry the same id.
        let id = crate::telemetry::request_id::current()
            .map_or_else(|| uuid::Uuid::new_v4().to_string(), |id| id.to_string());
        tracing::error!(correlation_id = %id, detail, "internal error");
        GatewayError {
            correlation_id: Some(id),
            ..Self::new(ErrorCode::InternalServerError, "internal error")
        }
    }

    pub fn extensions(&self) -> ErrorExtensionValues {
        let mut ext = ErrorExtensionValues::default();
        ext.set("code", self.code.as_str());
        if let Some(p) = self.provider {
            ext.set("provider", enum_value(crate::graphql::values::Provider::from(p)));
        }
        if let Some(s) = self.retry_after_seconds {
            ext.set("retryAfterSeconds", s);
        }
        if let Some(id) = &self.correlation_id {
            ext.set("correlationId", id.as_str());
        }
        ext
    }
}

impl GatewayError {
    /// This error as a request-level GraphQL error (no path: nothing ran), for answers
    /// written outside async-graphql's executor.
    pub fn server_error(&self) -> async_graphql::ServerError {
        async_graphql::ServerError {
            message: self.message.clone(),
            source: None,
            locations: Vec::new(),
            path: Vec::new(),
            extensions: Some(self.extensions()),
        }
    }
}

impl From<GatewayError> for async_graphql::Error {
    fn from(e: GatewayError) -> Self {
        async_graphql::Error {
            message: e.message.clone(),
            source: None,
            extensions: Some(e.extensions()),
        }
    }
}

impl From<UpstreamError> for GatewayError {
    fn from(e: UpstreamError) -> Self {
        let name = e.provider.as_str();
        let request_id = crate::telemetry::request_id::current();
        tracing::warn!(provider = name, kind = ?e.kind, detail = %e.detail, request_id = request_id.as_deref().unwrap_or("-"), "upstream error");
        let (code, message) = match e.kind {
            UpstreamErrorKind::Unauthorized => (
                ErrorCode::UpstreamUnauthorized,
                format!("{name} rejected the configured credentials"),
            ),
            UpstreamErrorKind::RateLimited { .. } => (
                ErrorCode::UpstreamRateLimited,
                format!("{name} is rate limiting requests"),
            ),
            UpstreamErrorKind::Timeout => (ErrorCode::UpstreamTimeout, format!("{name} did not answer in time")),
            UpstreamErrorKind::Unavailable => (ErrorCode::UpstreamUnavailable, format!("{name} is unavailable")),
            UpstreamErrorKind::BadResponse => (
                ErrorCode::UpstreamBadResponse,
                format!("{name} sent a response the gateway cannot use"),
            ),
            UpstreamErrorKind::BadRecord { ref id } => (
                ErrorCode::UpstreamBadResponse,
                format!("{name} sent a record the gateway cannot read (id {id:?}); the others are listed"),
            ),
            UpstreamErrorKind::RejectedInput => (
                ErrorCode::BadUserInput,
                format!("{name} rejected the filter values of this query"),
            ),
            UpstreamErrorKind::PastRetention => (
                ErrorCode::BadUserInput,
                format!(
                    "{name} no longer keeps logs as old as this query reaches (history retention); narrow its dates"
                ),
            ),
            UpstreamErrorKind::CursorExpired => (
                ErrorCode::BadUserInput,
                format!("the cursor expired at {name}; restart paging without `after`"),
            ),
            UpstreamErrorKind::Internal => return GatewayError::internal(&e.detail),
            UpstreamErrorKind::BudgetExhausted { limit } => (
                ErrorCode::BadUserInput,
                format!(
                    "this request needs more than {limit} upstream calls (graphql.max_upstream_calls); ask for fewer items or split the query"
                ),
            ),
        };
        let retry_after_seconds = match e.kind {
            UpstreamErrorKind::RateLimited { retry_after_seconds } => retry_after_seconds,
            _ => None,
        };
        GatewayError {
            provider: Some(e.provider),
            retry_after_seconds,
            ..GatewayError::new(code, message)
        }
    }
}

impl From<UpstreamError> for async_graphql::Error {
    fn from(e: UpstreamError) -> Self {
        GatewayError::from(e).into()
    }
}

impl From<crate::timeline::Error> for GatewayError {
    fn from(e: crate::timeline::Error) -> Self {
        use crate::timeline::Error;
        match e {
            Error::NotConfigured(provider) => GatewayError::not_configured(provider),
            Error::BadPosition => GatewayError::bad_input(e.to_string()),
            Error::CannotCount => GatewayError::internal(&e.to_string()),
            Error::NoProgress(provider) => GatewayError {
                provider: Some(provider),
                ..GatewayError::new(ErrorCode::UpstreamBadResponse, e.to_string())
            },
        }
    }
}

/// Reports `error` at the current field's path beside a value the field still returns
/// (a partial result: e.g. a page whose look-ahead failed).
pub fn report(ctx: &async_graphql::Context<'_>, error: impl Into<GatewayError>) {
    let error = async_graphql::Error::from(error.into());
    ctx.add_error(ctx.set_error_path(error.into_server_error(ctx.item.pos)));
}

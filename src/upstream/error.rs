//! Upstream failures, classified once for every provider.

use crate::domain::Provider;

/// What went wrong talking to a provider. Details are for logs; clients see only the kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamErrorKind {
    /// 401/403 or a provider auth error: the configured credentials were refused.
    Unauthorized,
    /// 429 or the provider's rate-limit error.
    RateLimited { retry_after_seconds: Option<u64> },
    /// No answer within the configured timeout.
    Timeout,
    /// 5xx, refused or reset connection.
    Unavailable,
    /// A body that does not decode or breaks a documented invariant.
    BadResponse,
    /// One record of a list could not be read; the rest of the list was kept. `id` is
    /// the record's id as the provider sent it (shortened).
    BadRecord { id: String },
    /// The provider refused a value the caller chose (a filter value, an argument).
    RejectedInput,
    /// The provider no longer keeps records as old as the query reaches (SignalWire 422
    /// `exceeds_history_logs_limit`).
    PastRetention,
    /// The provider's paging token behind a cursor expired: paging must restart.
    CursorExpired,
    /// A gateway bug surfaced while handling the provider's data.
    Internal,
    /// The request used up its upstream-call budget; nothing was sent.
    BudgetExhausted { limit: u32 },
}

/// A classified upstream failure, with the provider it came from.
///
/// Deliberately not `Display`/`Error`: async-graphql converts any displayable error into
/// a client error verbatim, which would leak `detail` and lose the code. The only way to
/// the client is through `GatewayError`.
#[derive(Debug, Clone)]
pub struct UpstreamError {
    pub provider: Provider,
    pub kind: UpstreamErrorKind,
    /// Internal detail for logs only (may quote the upstream body).
    pub detail: String,
}

impl UpstreamError {
    pub fn new(provider: Provider, kind: UpstreamErrorKind, detail: impl Into<String>) -> Self {
        UpstreamError {
            provider,
            kind,
            detail: detail.into(),
        }
    }

    /// One unreadable record of a list, named by its (shortened) id.
    pub fn bad_record(provider: Provider, id: &str) -> Self {
        let id: String = id.chars().take(64).collect();
        UpstreamError::new(
            provider,
            UpstreamErrorKind::BadRecord { id: id.clone() },
            format!("unreadable record {id}"),
        )
    }

    pub fn bad_response(provider: Provider, detail: impl Into<String>) -> Self {
        Self::new(provider, UpstreamErrorKind::BadResponse, detail)
    }
}

impl From<crate::cache::TypeMismatch> for UpstreamError {
    fn from(e: crate::cache::TypeMismatch) -> Self {
        UpstreamError::new(e.provider, UpstreamErrorKind::Internal, e.to_string())
    }
}

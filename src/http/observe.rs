//! Every request observed once, around the whole router (by the accept loop, so it costs
//! no middleware layer per route): its request id (the caller's
//! `x-request-id` when it is a sane token, else a new one; echoed in the response and put
//! in 5xx error bodies), its span (a child of the caller's `traceparent`, when traces are
//! exported), and, for GraphQL requests, the metrics and the access line.
//!
//! Handlers say what happened by leaving `Facts` in the response's extensions; `observe`
//! reads them after the response is built, so no handler records metrics or logs by
//! itself.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use tracing::Instrument;

use crate::domain::TenantId;
use crate::telemetry::logs::{Access, access};
use crate::telemetry::metrics::{Metrics, Outcome};
use crate::telemetry::{otel, request_id};

const HEADER: &str = "x-request-id";
/// Longest caller-chosen request id kept; a longer or odder one is replaced.
const MAX_ID_BYTES: usize = 128;

/// A request's id.
#[derive(Debug, Clone)]
pub struct RequestId(HeaderValue);

impl RequestId {
    /// The caller's id when it is 1 to 128 bytes of `[A-Za-z0-9._:-]`, else a new one.
    fn of(headers: &HeaderMap) -> RequestId {
        let given = headers.get(HEADER).filter(|v| {
            let bytes = v.as_bytes();
            !bytes.is_empty()
                && bytes.len() <= MAX_ID_BYTES
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
        });
        match given {
            Some(value) => RequestId(value.clone()),
            None => RequestId::generate(),
        }
    }

    /// A new id: 32 hex digits, a random per-process prefix then a counter (unique within
    /// the process, by the prefix unlikely to repeat across processes, and cheap).
    fn generate() -> RequestId {
        static PREFIX: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let prefix = *PREFIX.get_or_init(rand::random::<u64>);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = (u128::from(prefix) << 64) | u128::from(n);
        let mut hex = [0u8; 32];
        for (i, digit) in hex.iter_mut().enumerate() {
            *digit = b"0123456789abcdef"[((id >> (124 - 4 * i)) & 0xf) as usize];
        }
        RequestId(HeaderValue::from_bytes(&hex).expect("hex is a header value"))
    }

    pub fn as_str(&self) -> &str {
        self.0.to_str().unwrap_or_default()
    }
}

/// What a handler reports about a GraphQL request it answered.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// `query`, `mutation`, `subscription`; empty when no operation was found.
    pub operation_type: &'static str,
    pub operation_name: Option<Arc<str>>,
    pub tenant: Option<TenantId>,
    /// The `extensions.code` of every error in the response.
    pub error_codes: Vec<String>,
    /// Whether `data` is present and not null.
    pub has_data: bool,
    pub upstream_calls: u32,
    pub cache_hits: u32,
}

impl Facts {
    /// A request refused before execution, with one error of `code`.
    pub fn refused(code: &str) -> Facts {
        Facts {
            error_codes: vec![code.to_string()],
            ..Facts::default()
        }
    }

    fn outcome(&self) -> Outcome {
        match (self.has_data, self.error_codes.is_empty()) {
            (true, true) => Outcome::Ok,
            (true, false) => Outcome::Partial,
            (false, _) => Outcome::Error,
        }
    }
}

/// What `observe` needs.
#[derive(Clone)]
pub struct Observer {
    pub metrics: Metrics,
    /// Whether the access line is written at `info` (`log.access`), else at `debug`.
    pub access_log: bool,
}

/// Runs `call` (the router) for `request`, observed.
pub async fn observe<F>(observer: Observer, request: Request, call: impl FnOnce(Request) -> F) -> Response
where
    F: Future<Output = Response>,
{
    let started = Instant::now();
    let id = RequestId::of(request.headers());
    let graphql = request.uri().path() == "/graphql";
    let span = span(&request, &id, graphql);
    let method = request.method().clone();
    let mut response = request_id::scope(Arc::from(id.as_str()), call(request))
        .instrument(span.clone())
        .await;
    response.headers_mut().insert(HEADER, id.0.clone());
    let Some(facts) = response.extensions().get::<Facts>().filter(|_| graphql) else {
        return response;
    };
    let seconds = started.elapsed().as_secs_f64();
    let known = (!facts.operation_type.is_empty()).then_some(facts.operation_type);
    let outcome = facts.outcome();
    let operation_type = known.unwrap_or("unknown");
    observer
        .metrics
        .request(known, facts.operation_name.as_deref(), outcome, seconds);
    for code in &facts.error_codes {
        observer.metrics.graphql_error(code);
    }
    let tenant = facts.tenant.as_ref().map_or("-", TenantId::as_str);
    if !span.is_none() {
        span.record("graphql.operation.type", operation_type);
        span.record("graphql.operation.name", facts.operation_name.as_deref().unwrap_or(""));
        span.record("tenant", tenant);
        span.record("outcome", outcome.as_str());
        span.record("http.response.status_code", i64::from(response.status().as_u16()));
        if outcome == Outcome::Error {
            span.record("otel.status_code", "ERROR");
        }
    }
    let (level, enabled) = match observer.access_log {
        true => (
            tracing::Level::INFO,
            tracing::enabled!(target: "switchboard::access", tracing::Level::INFO),
        ),
        false => (
            tracing::Level::DEBUG,
            tracing::enabled!(target: "switchboard::access", tracing::Level::DEBUG),
        ),
    };
    if enabled {
        access(
            level,
            &Access {
                method: method.as_str(),
                path: "/graphql",
                operation: facts.operation_name.as_deref().unwrap_or("-"),
                status: response.status().as_u16(),
                duration_ms: (seconds * 1e6).round() / 1e3,
                upstream_calls: facts.upstream_calls,
                cache_hits: facts.cache_hits,
                tenant,
                request_id: id.as_str(),
                outcome: outcome.as_str(),
            },
        );
    }
    response
}

/// The request's span, when traces are exported and the request is a GraphQL one.
fn span(request: &Request, id: &RequestId, graphql: bool) -> tracing::Span {
    if !graphql || !otel::enabled() {
        return tracing::Span::none();
    }
    let span = tracing::info_span!(
        "graphql.request",
        otel.name = "graphql.request",
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        http.request.method = request.method().as_str(),
        url.path = request.uri().path(),
        request_id = id.as_str(),
        graphql.operation.type = tracing::field::Empty,
        graphql.operation.name = tracing::field::Empty,
        tenant = tracing::field::Empty,
        outcome = tracing::field::Empty,
        http.response.status_code = tracing::field::Empty,
    );
    otel::adopt_parent(&span, request.headers());
    span
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sane_caller_request_id_is_kept_and_anything_else_replaced() {
        let mut headers = HeaderMap::new();
        headers.insert(HEADER, HeaderValue::from_static("abc-123_x:y.z"));
        assert_eq!(RequestId::of(&headers).as_str(), "abc-123_x:y.z");
        for odd in ["", "has space", "quote\"", &"x".repeat(129)] {
            headers.insert(HEADER, HeaderValue::from_str(odd).unwrap());
            let id = RequestId::of(&headers);
            assert_eq!(id.as_str().len(), 32, "{odd:?} replaced by a new id");
            assert_ne!(id.as_str(), odd);
        }
        assert_eq!(RequestId::of(&HeaderMap::new()).as_str().len(), 32);
    }
}

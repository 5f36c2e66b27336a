//! Rendered responses, reused per tenant. A request that repeats a query with
//! the same operation and variables, while every cached record and page its answer was
//! made from is still fresh, gets the bytes rendered last time: no parse, no validation,
//! no execution. That is what executing it again would produce, because execution would
//! read the same cache entries; so only answers made wholly from the cache are kept:
//! - the request made no upstream call (the first request that fetched is not kept; the
//!   next, served from the records it cached, is), so everything in it came from entries
//!   whose expiry the request saw (`request`);
//! - it kept them until the first of those entries expires, never longer;
//! - a query, with no error (a partial answer is retried, never replayed);
//! - keyed by the tenant as well as the query text, operation name and variables, so one
//!   tenant never reads another's answer, even for the same query.
//!
//! Answers that read no provider data (`{ __typename }`, introspection) are not kept: they
//! are cheap, or rare. Bounded by `cache.max_response_bytes`.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use moka::Expiry;

use super::encoding::Encoding;
use crate::authz::{Tally, View};
use crate::domain::TenantId;

/// Largest single answer kept (a bigger one is re-executed each time).
const MAX_ENTRY_BYTES: usize = 1024 * 1024;

/// What names an answer: the tenant, the caller's view under `[authorization]` (what it
/// may see, not who it is), the query text, the operation and the variables.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ResponseKey {
    tenant: TenantId,
    view: View,
    request: Box<str>,
}

impl ResponseKey {
    pub fn new(tenant: &TenantId, view: View, request: &async_graphql::Request) -> Option<Self> {
        let mut key = String::with_capacity(request.query.len() + 2);
        key.push_str(&request.query);
        key.push('\0');
        key.push_str(request.operation_name.as_deref().unwrap_or(""));
        key.push('\0');
        if !request.variables.is_empty() {
            key.push_str(&serde_json::to_string(&request.variables).ok()?);
        }
        Some(ResponseKey {
            tenant: tenant.clone(),
            view,
            request: key.into_boxed_str(),
        })
    }
}

/// A kept answer: its body, when the first of its data expires, and its compressed forms
/// (each made when first asked for).
pub struct Rendered {
    pub body: Bytes,
    /// Whether `body` has `extensions` (its last entry).
    pub extended: bool,
    pub expires: Instant,
    /// The name of the operation it answers (for the metrics and access line of a reuse).
    pub operation: Option<Arc<str>>,
    /// What it shows unmasked under `[authorization]` (each reuse is audited again).
    pub tally: Tally,
    encoded: [OnceLock<Option<Bytes>>; Encoding::ALL.len()],
}

impl Rendered {
    /// The body compressed with `encoding` (compressed once, on first use); `None` if that
    /// failed.
    pub fn encoded(&self, encoding: Encoding) -> Option<Bytes> {
        self.encoded[encoding.index()]
            .get_or_init(|| encoding.compress(&self.body).ok())
            .clone()
    }

    /// How long it stays fresh from now.
    pub fn fresh_for(&self) -> Duration {
        self.expires.saturating_duration_since(Instant::now())
    }
}

struct UntilStale;

impl Expiry<ResponseKey, Arc<Rendered>> for UntilStale {
    fn expire_after_create(&self, _: &ResponseKey, value: &Arc<Rendered>, _: std::time::Instant) -> Option<Duration> {
        Some(value.fresh_for())
    }
}

/// The kept answers; `None` inside when `cache.max_response_bytes` is 0.
#[derive(Clone)]
pub struct Responses(Option<moka::sync::Cache<ResponseKey, Arc<Rendered>>>);

impl Responses {
    pub fn new(max_bytes: u64) -> Self {
        Responses((max_bytes > 0).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(max_bytes)
                // The body, and room for its compressed forms (JSON shrinks 3x or more).
                .weigher(|key: &ResponseKey, value: &Arc<Rendered>| {
                    u32::try_from(key.request.len() + 2 * value.body.len() + 256).unwrap_or(u32::MAX)
                })
                .expire_after(UntilStale)
                .build()
        }))
    }

    /// The key of `request` when answers are kept.
    pub fn key(&self, tenant: &TenantId, view: View, request: &async_graphql::Request) -> Option<ResponseKey> {
        self.0.as_ref().and_then(|_| ResponseKey::new(tenant, view, request))
    }

    /// The kept answer of `key`, while fresh.
    pub fn get(&self, key: &ResponseKey) -> Option<Arc<Rendered>> {
        let rendered = self.0.as_ref()?.get(key)?;
        (rendered.expires > Instant::now()).then_some(rendered)
    }

    /// Keeps an answer until `expires` (see the module doc for which answers qualify;
    /// the caller decides).
    pub fn keep(
        &self,
        key: ResponseKey,
        body: Bytes,
        extended: bool,
        expires: Instant,
        operation: Option<Arc<str>>,
        tally: Tally,
    ) {
        let Some(cache) = &self.0 else { return };
        if body.len() > MAX_ENTRY_BYTES || expires <= Instant::now() {
            return;
        }
        let encoded = Default::default();
        cache.insert(
            key,
            Arc::new(Rendered {
                body,
                extended,
                expires,
                operation,
                tally,
                encoded,
            }),
        );
    }

    /// Number of kept answers (approximate until maintenance runs).
    pub fn entry_count(&self) -> u64 {
        self.0.as_ref().map_or(0, |c| c.entry_count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(query: &str, variables: serde_json::Value) -> async_graphql::Request {
        async_graphql::Request::new(query).variables(async_graphql::Variables::from_json(variables))
    }

    #[test]
    fn an_answer_is_kept_per_tenant_and_variables_until_its_data_expires() {
        let responses = Responses::new(1 << 20);
        let (a, b) = (TenantId::new("a"), TenantId::new("b"));
        let q = request("query($n: Int) { x(n: $n) }", serde_json::json!({"n": 1}));
        let key = responses.key(&a, View::default(), &q).unwrap();
        responses.keep(
            key.clone(),
            Bytes::from_static(b"{}"),
            false,
            Instant::now() + Duration::from_secs(60),
            None,
            Tally::default(),
        );
        assert!(responses.get(&key).is_some());
        assert!(
            responses
                .get(&responses.key(&b, View::default(), &q).unwrap())
                .is_none(),
            "another tenant"
        );
        let other = request("query($n: Int) { x(n: $n) }", serde_json::json!({"n": 2}));
        assert!(
            responses
                .get(&responses.key(&a, View::default(), &other).unwrap())
                .is_none(),
            "other variables"
        );
        let stale = responses
            .key(&a, View::default(), &request("{ y }", serde_json::json!({})))
            .unwrap();
        responses.keep(
            stale.clone(),
            Bytes::from_static(b"{}"),
            false,
            Instant::now(),
            None,
            Tally::default(),
        );
        assert!(responses.get(&stale).is_none(), "its data expired already");
    }

    #[test]
    fn nothing_is_kept_when_turned_off() {
        let responses = Responses::new(0);
        assert!(
            responses
                .key(
                    &TenantId::new("a"),
                    View::default(),
                    &request("{ x }", serde_json::json!({}))
                )
                .is_none()
        );
    }
}

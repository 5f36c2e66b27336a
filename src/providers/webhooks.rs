//! Provider webhooks as shared code sees them: each provider that can push registers one
//! `Webhook` in `WEBHOOKS`, which authenticates a delivery with the tenant's own secret
//! (from its provider section) and names the calls it is about. The HTTP layer serves them
//! all on `/webhooks/{tenant}/{name}` and hands the calls to the live feed, which reads
//! each one fresh; a webhook never has to carry a whole record.

use axum::http::HeaderMap;

use super::ProvidersConfig;
use crate::domain::NodeKind;

/// One delivery as it arrived.
pub struct Delivery<'a> {
    pub headers: &'a HeaderMap,
    /// The URL the provider posted to, as it called it (what signatures cover).
    pub url: &'a str,
    pub body: &'a [u8],
}

/// A call a delivery is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    pub kind: NodeKind,
    pub native_id: String,
}

/// Why a delivery is not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// The tenant has not configured the provider's secret: the webhook is off.
    #[error("this webhook is not configured for this tenant")]
    NotConfigured,
    /// The signature or secret does not match: nothing changes (403).
    #[error("the signature or secret does not match")]
    Refused,
    /// Authentic, but its body names no call (400).
    #[error("{0}")]
    Unreadable(&'static str),
}

/// A provider's webhook.
pub trait Webhook: Sync {
    /// Its path segment (`/webhooks/{tenant}/{name}`) and metrics label.
    fn name(&self) -> &'static str;
    /// The label of events it brings (`switchboard_live_events_ingested_total{source}`).
    fn source(&self) -> &'static str;
    /// Authenticates `delivery` with the tenant's `providers` section and names its calls.
    fn receive(&self, providers: &ProvidersConfig, delivery: &Delivery<'_>) -> Result<Vec<Hint>, WebhookError>;
}

/// Every provider's webhook.
pub const WEBHOOKS: &[&dyn Webhook] = &[
    &super::signalwire::webhook::WEBHOOK,
    &super::oneuptime::webhook::WEBHOOK,
];

/// Whether `a` and `b` are equal, in time that does not depend on where they differ
/// (their SHA-256 digests are compared, so not on their lengths either).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use sha2::{Digest, Sha256};
    let (x, y) = (Sha256::digest(a), Sha256::digest(b));
    x.iter().zip(y.iter()).fold(0u8, |acc, (p, q)| acc | (p ^ q)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_secrets_match_and_others_do_not() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret-longer"));
        assert!(!constant_time_eq(b"", b"x"));
    }

    #[test]
    fn webhook_names_are_unique() {
        let mut names: Vec<_> = WEBHOOKS.iter().map(|w| w.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), WEBHOOKS.len());
    }
}

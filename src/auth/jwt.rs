//! Verifying an end user's JWT: signature by a key of the identity provider, `iss`, `aud`,
//! `exp` and `nbf` (with a small leeway), an allowed algorithm, and the claim that names
//! the tenant.
//!
//! Why a token failed is logged at debug level only; the client learns just that it is
//! invalid (RFC 6750 §3.1 `invalid_token`).
//!
//! A browser sends the same token with every request until it expires, and checking an
//! RS256 signature costs more CPU than answering a cached query (about 70 us here), so a
//! token that passed every check is remembered, by its exact text, until it expires or
//! for `VERIFIED_TTL`, whichever comes first. A key removed from the identity provider's
//! JWKS stops tokens it signed within that time.

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, Validation};

use super::jwks::{KeySource, RemoteKeys};
use crate::auth::config::JwtConfig;

/// Why a token was refused (for logs).
#[derive(Debug, thiserror::Error)]
pub(super) enum Rejection {
    #[error("not a JWT")]
    Malformed,
    #[error("algorithm {0:?} is not in auth.jwt.algorithms")]
    AlgorithmNotAllowed(Algorithm),
    #[error("no key of the identity provider fits the token's kid and alg")]
    NoKey,
    #[error("signature or claims: {0:?}")]
    Claims(jsonwebtoken::errors::ErrorKind),
    #[error("the tenant claim is missing or not a string")]
    NoTenantClaim,
}

/// Longest time a verified token is taken without checking it again.
const VERIFIED_TTL: Duration = Duration::from_secs(300);
/// Most bytes of verified tokens remembered.
const VERIFIED_BYTES: u64 = 8 << 20;

/// A verified token.
#[derive(Debug)]
pub(super) struct Verified {
    /// The tenant claim's value, when one is configured.
    pub tenant: Option<String>,
    /// `sub`: who signed in.
    pub subject: Option<Arc<str>>,
    /// `azp`: the client the token was issued to.
    pub party: Option<Arc<str>>,
    /// The scopes of the scopes claim (`[authorization] scopes_claim`), when one is read.
    pub granted: Option<crate::authz::Granted>,
    /// `exp`, in seconds since the Unix epoch (a long-lived WebSocket closes then).
    pub expires: Option<u64>,
    /// Until when it may be taken without checking it again (before its `exp`).
    until: Instant,
}

/// Verifies tokens of one identity provider.
pub(super) struct JwtVerifier {
    keys: KeySource,
    issuer: String,
    audiences: Vec<String>,
    algorithms: Vec<Algorithm>,
    leeway_seconds: u64,
    tenant_claim: Option<String>,
    scopes_claim: Option<String>,
    /// Tokens that passed every check, by their text (see the module doc).
    verified: moka::sync::Cache<Arc<str>, Arc<Verified>>,
}

impl JwtVerifier {
    pub(super) fn from_config(
        config: &JwtConfig,
        scopes_claim: Option<&str>,
        http: &reqwest::Client,
    ) -> Result<JwtVerifier, String> {
        let keys = match (&config.jwks_url, &config.public_key_pem) {
            (Some(url), _) => KeySource::Remote(Box::new(RemoteKeys::new(
                url.clone(),
                http.clone(),
                config.jwks_ttl,
                config.jwks_min_refresh,
            ))),
            (None, Some(pem)) => KeySource::from_pem(pem)?,
            (None, None) => return Err("auth.jwt needs `jwks_url` or `public_key_pem`".into()),
        };
        let algorithms = config
            .algorithms
            .iter()
            .map(|name| Algorithm::from_str(name).map_err(|_| format!("auth.jwt.algorithms: unknown `{name}`")))
            .collect::<Result<_, _>>()?;
        Ok(JwtVerifier {
            keys,
            issuer: config.issuer.clone(),
            audiences: config.audiences.clone(),
            algorithms,
            leeway_seconds: config.leeway.as_secs(),
            tenant_claim: config.tenant_claim.clone(),
            scopes_claim: scopes_claim.map(str::to_string),
            verified: moka::sync::Cache::builder()
                .max_capacity(VERIFIED_BYTES)
                .weigher(|token: &Arc<str>, _: &Arc<Verified>| u32::try_from(token.len() + 256).unwrap_or(u32::MAX))
                .time_to_live(VERIFIED_TTL)
                .build(),
        })
    }

    /// The token's claims, when it passes every check (or passed them before and has not
    /// expired since).
    pub(super) async fn verify(&self, token: &str) -> Result<Arc<Verified>, Rejection> {
        if let Some(known) = self.verified.get(token)
            && known.until > Instant::now()
        {
            return Ok(known);
        }
        let verified = Arc::new(self.check(token).await?);
        if verified.until > Instant::now() {
            self.verified.insert(token.into(), verified.clone());
        }
        Ok(verified)
    }

    async fn check(&self, token: &str) -> Result<Verified, Rejection> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| Rejection::Malformed)?;
        if !self.algorithms.contains(&header.alg) {
            return Err(Rejection::AlgorithmNotAllowed(header.alg));
        }
        let key = self
            .keys
            .find(header.kid.as_deref(), header.alg)
            .await
            .ok_or(Rejection::NoKey)?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&self.audiences);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.leeway = self.leeway_seconds;
        validation.validate_nbf = true;
        let data = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(token, &key.key, &validation)
            .map_err(|e| Rejection::Claims(e.into_kind()))?;
        let tenant = match &self.tenant_claim {
            None => None,
            Some(claim) => Some(
                data.claims
                    .get(claim)
                    .and_then(|v| v.as_str())
                    .ok_or(Rejection::NoTenantClaim)?
                    .to_string(),
            ),
        };
        let text = |name: &str| data.claims.get(name).and_then(|v| v.as_str()).map(Arc::from);
        // A scopes claim that is neither a string nor a list of strings grants nothing.
        let granted = self.scopes_claim.as_deref().map(|claim| {
            crate::authz::Granted::from_claim(data.claims.get(claim)).unwrap_or_else(|| {
                tracing::debug!(
                    claim,
                    "the token's scopes claim is neither a string nor a list of strings"
                );
                crate::authz::Granted::Scopes(Arc::from([]))
            })
        });
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Ok(Verified {
            tenant,
            subject: text("sub"),
            party: text("azp"),
            granted,
            expires: data.claims.get("exp").and_then(serde_json::Value::as_u64),
            until: Instant::now() + reusable_for(data.claims.get("exp"), now),
        })
    }
}

/// How long a token verified now (`now`, seconds since the epoch) is taken again without
/// a check: until its `exp` and never past it (a token within the leeway after `exp` is
/// checked every time), at most `VERIFIED_TTL`; not at all without a whole-second `exp`.
fn reusable_for(exp: Option<&serde_json::Value>, now: u64) -> Duration {
    let left = exp
        .and_then(serde_json::Value::as_u64)
        .map_or(0, |exp| exp.saturating_sub(now));
    Duration::from_secs(left).min(VERIFIED_TTL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verified_token_is_reused_until_its_exp_and_never_past_it() {
        let now = 1_800_000_000;
        let exp = |v: serde_json::Value| reusable_for(Some(&v), now);
        assert_eq!(exp(serde_json::json!(now + 60)), Duration::from_secs(60));
        assert_eq!(exp(serde_json::json!(now + 86_400)), VERIFIED_TTL);
        assert_eq!(
            exp(serde_json::json!(now - 5)),
            Duration::ZERO,
            "within the leeway: checked each time"
        );
        assert_eq!(exp(serde_json::json!(now)), Duration::ZERO);
        assert_eq!(exp(serde_json::json!(1.8e9)), Duration::ZERO);
        assert_eq!(reusable_for(None, now), Duration::ZERO);
    }
}

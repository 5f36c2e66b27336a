//! Verifying an end user's JWT: signature by a key of the identity provider, `iss`, `aud`,
//! `exp` and `nbf` (with a small leeway), an allowed algorithm, and the claim that names
//! the tenant.
//!
//! Why a token failed is logged at debug level only; the client learns just that it is
//! invalid (RFC 6750 §3.1 `invalid_token`).

use std::str::FromStr;

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

/// A verified token.
#[derive(Debug)]
pub(super) struct Verified {
    /// The tenant claim's value, when one is configured.
    pub tenant: Option<String>,
    /// `sub`: who signed in.
    pub subject: Option<String>,
    /// `azp`: the client the token was issued to.
    pub party: Option<String>,
    /// The scopes of the scopes claim (`[authorization] scopes_claim`), when one is read.
    pub granted: Option<crate::authz::Granted>,
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
        })
    }

    pub(super) async fn verify(&self, token: &str) -> Result<Verified, Rejection> {
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
        let text = |name: &str| data.claims.get(name).and_then(|v| v.as_str()).map(str::to_string);
        // A scopes claim that is neither a string nor a list of strings grants nothing.
        let granted = self.scopes_claim.as_deref().map(|claim| {
            crate::authz::Granted::from_claim(data.claims.get(claim)).unwrap_or_else(|| {
                tracing::debug!(
                    claim,
                    "the token's scopes claim is neither a string nor a list of strings"
                );
                crate::authz::Granted::Scopes(Vec::new())
            })
        });
        Ok(Verified {
            tenant,
            subject: text("sub"),
            party: text("azp"),
            granted,
        })
    }
}
